public import Foundation

/// A model file on the Hugging Face Hub: `{hf: org/name, file: ..., revision: main, sha256: ...}`.
public struct HubFile: Sendable, Hashable, CustomStringConvertible {
    /// `org/name`.
    public var repo: String
    /// The file's path inside the repository.
    public var file: String
    /// A branch, tag or commit.
    public var revision: String
    /// The file's sha256 when the config pins it.
    public var sha256: String?

    public init(repo: String, file: String, revision: String = "main", sha256: String? = nil) {
        self.repo = repo
        self.file = file
        self.revision = revision
        self.sha256 = sha256
    }

    public var description: String { "hf:\(repo)/\(file)@\(revision)" }

    /// A revision that is a full commit hash names one snapshot for ever.
    public var revisionIsCommit: Bool { Self.isHex(revision, count: 40) }

    /// `count` lowercase hexadecimal digits (a commit has 40, a sha256 64).
    public static func isHex(_ text: String, count: Int) -> Bool {
        text.utf8.count == count && text.utf8.allSatisfy { (48...57).contains($0) || (97...102).contains($0) }
    }
}

/// The Hugging Face hub cache, in the layout `huggingface_hub` and llama.cpp use, so files they
/// fetched are found here and ours are visible to them:
/// `models--org--name/blobs/<sha256>`, `snapshots/<commit>/<file>` (a relative symlink to the
/// blob) and `refs/<revision>` (the commit a branch or tag resolved to). Downloads in flight are
/// `blobs/<sha256>.incomplete`, locked by `.locks/models--org--name/<sha256>.lock`.
public struct HubCache: Sendable {
    public let root: URL

    public init(root: URL) {
        self.root = root
    }

    /// `$HF_HUB_CACHE`, else `$HF_HOME/hub`, else `~/.cache/huggingface/hub`.
    public init(environment: [String: String]) {
        if let path = environment["HF_HUB_CACHE"], !path.isEmpty {
            root = URL(fileURLWithPath: (path as NSString).expandingTildeInPath)
        } else if let home = environment["HF_HOME"], !home.isEmpty {
            root = URL(fileURLWithPath: (home as NSString).expandingTildeInPath).appendingPathComponent("hub")
        } else {
            root = URL(fileURLWithPath: NSHomeDirectory()).appendingPathComponent(".cache/huggingface/hub")
        }
    }

    public func folder(_ repo: String) -> URL {
        root.appendingPathComponent("models--" + repo.replacingOccurrences(of: "/", with: "--"))
    }

    public func blob(_ repo: String, _ name: String) -> URL {
        folder(repo).appendingPathComponent("blobs/\(name)")
    }

    public func snapshot(_ repo: String, commit: String, file: String) -> URL {
        folder(repo).appendingPathComponent("snapshots/\(commit)/\(file)")
    }

    public func ref(_ repo: String, _ revision: String) -> URL {
        folder(repo).appendingPathComponent("refs/\(revision)")
    }

    func lock(_ repo: String, _ blobName: String) -> URL {
        root.appendingPathComponent(".locks/models--" + repo.replacingOccurrences(of: "/", with: "--"))
            .appendingPathComponent(blobName + ".lock")
    }

    /// The commit `file.revision` resolves to in the cache (itself for a commit hash).
    public func commit(of file: HubFile) -> String? {
        if file.revisionIsCommit { return file.revision }
        let text = try? String(contentsOf: ref(file.repo, file.revision), encoding: .utf8)
        return text.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.flatMap { $0.isEmpty ? nil : $0 }
    }

    /// The cached copy of `file`, without a request: its snapshot path, commit and blob name (the
    /// sha256 for files the Hub stores with LFS, as GGUF files are).
    public func cached(_ file: HubFile) -> (url: URL, commit: String, blob: String)? {
        guard let commit = commit(of: file) else { return nil }
        let url = snapshot(file.repo, commit: commit, file: file.file)
        guard FileManager.default.fileExists(atPath: url.path) else { return nil }  // follows the link
        let target = url.resolvingSymlinksInPath()
        return (url, commit, target.lastPathComponent)
    }

    /// Links `snapshots/<commit>/<file>` to the blob and records `refs/<revision>`.
    func place(_ file: HubFile, commit: String, blob: String) throws {
        let link = snapshot(file.repo, commit: commit, file: file.file)
        try FileManager.default.createDirectory(at: link.deletingLastPathComponent(), withIntermediateDirectories: true)
        let depth = file.file.split(separator: "/").count + 1  // snapshots/<commit>/[dirs/]file
        let target = String(repeating: "../", count: depth) + "blobs/" + blob
        if (try? FileManager.default.destinationOfSymbolicLink(atPath: link.path)) != target {
            try? FileManager.default.removeItem(at: link)
            try FileManager.default.createSymbolicLink(atPath: link.path, withDestinationPath: target)
        }
        if !file.revisionIsCommit {
            let ref = ref(file.repo, file.revision)
            try FileManager.default.createDirectory(
                at: ref.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(commit.utf8).write(to: ref, options: .atomic)
        }
    }
}
