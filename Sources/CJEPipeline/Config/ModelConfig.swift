public import CJEProviders

/// A local GGUF model: a file on disk (`path`), or a file on the Hugging Face Hub (`hf`, `file`,
/// optional `revision` and `sha256`) fetched into the hub cache on first use.
public struct ModelConfig: Codable, Sendable, Hashable {
    /// The GGUF file; for "default", absent (with no `hf`) means the SmolLM2 demo model.
    public var path: String?
    /// A chat template for models that have none (e.g. "chatml").
    public var chatTemplate: String?
    /// The Hub repository, `org/name`.
    public var hf: String?
    /// The file inside the repository.
    public var file: String?
    /// Branch, tag or commit (default `main`); the commit it resolved to is logged.
    public var revision: String?
    /// The file's sha256, when pinned: anything else is refused.
    public var sha256: String?

    public init(path: String? = nil, chatTemplate: String? = nil) {
        self.path = path
        self.chatTemplate = chatTemplate
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case path, hf, file, revision, sha256
        case chatTemplate = "chat_template"
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        path = try c.decodeIfPresent(String.self, forKey: .path)
        chatTemplate = try c.decodeIfPresent(String.self, forKey: .chatTemplate)
        hf = try c.decodeIfPresent(String.self, forKey: .hf)
        file = try c.decodeIfPresent(String.self, forKey: .file)
        revision = try c.decodeIfPresent(String.self, forKey: .revision)
        sha256 = try c.decodeIfPresent(String.self, forKey: .sha256)
    }

    /// The Hub file this model names, if it names one.
    public var hubFile: HubFile? {
        guard let hf, let file else { return nil }
        return HubFile(repo: hf, file: file, revision: revision ?? "main", sha256: sha256)
    }

    /// What is wrong with the model's keys, as (key, problem), or nil.
    func problem() -> (key: String, message: String)? {
        guard let hf else {
            for (key, value) in [("file", file), ("revision", revision), ("sha256", sha256)] where value != nil {
                return (key, "only goes with 'hf' (a model on the Hugging Face Hub)")
            }
            return nil
        }
        if path != nil { return ("path", "and 'hf' are both given: a model is a local file or a Hub file, not both") }
        let parts = hf.split(separator: "/", omittingEmptySubsequences: false)
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")
        if parts.count != 2
            || parts.contains(where: { $0.isEmpty || $0 == "." || $0 == ".." || !$0.allSatisfy(allowed.contains) })
        {
            return ("hf", "must be a repository 'org/name' (got '\(hf)'), e.g. bartowski/Llama-3.2-3B-Instruct-GGUF")
        }
        guard let file, !file.isEmpty else {
            return ("file", "is required with 'hf': the file in the repository, e.g. Llama-3.2-3B-Instruct-Q6_K.gguf")
        }
        if file.hasPrefix("/")
            || file.split(separator: "/", omittingEmptySubsequences: false).contains(where: {
                $0 == ".." || $0 == "." || $0.isEmpty
            })
        {
            return ("file", "must be a path inside the repository, without '..' (got '\(file)')")
        }
        if let revision, revision.isEmpty || revision.split(separator: "/").contains("..") {
            return ("revision", "must be a branch, tag or commit (got '\(revision)')")
        }
        if let sha256, !HubFile.isHex(sha256, count: 64) {
            return ("sha256", "must be 64 lowercase hex digits (got '\(sha256)')")
        }
        return nil
    }
}
