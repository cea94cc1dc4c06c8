import AsyncHTTPClient
import CJEInference
public import Foundation
import NIOCore
import NIOHTTP1

/// Uploads a folder to a Hugging Face dataset repository through the Hub's HTTP API, as
/// `huggingface_hub` does: create the repository, ask which files go through LFS (`preupload`),
/// send those to LFS storage (an object the Hub already holds is skipped, so a retry resends only
/// what is missing), then one commit with every file: the repository gets all of them or none.
/// Every request is retried on 408, 429, 5xx, timeouts and dropped connections. When the upload
/// fails for good and the repository was created by this upload, it is deleted, so no empty or
/// partial repository is left behind.
public struct HubUploader: Sendable {
    public var endpoint: String
    public let token: String
    /// Six attempts a request, five minutes each (an LFS object is sent in one request).
    public var retry = RetryPolicy(attempts: 6, timeoutSeconds: 300)

    /// What the upload did.
    public struct Report: Sendable, Hashable {
        public var created = false
        public var files = 0
        public var lfsFiles = 0
        /// LFS objects the Hub already held (not sent again).
        public var lfsSkipped = 0
        public var bytesSent: Int64 = 0
        public var requests = 0
        public var retries = 0
        public var commit: String?
    }

    /// Needs `HF_TOKEN` (a write token); `HF_ENDPOINT` names another Hub.
    public init(environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        guard let token = environment["HF_TOKEN"], !token.isEmpty else { throw HubUploadError.missingToken }
        let endpoint = environment["HF_ENDPOINT"].flatMap { $0.isEmpty ? nil : $0 } ?? "https://huggingface.co"
        self.endpoint = endpoint.hasSuffix("/") ? String(endpoint.dropLast()) : endpoint
        self.token = token
    }

    /// The Hub's rule for `owner/name`: each part letters, digits, `-`, `_` and `.`, not starting
    /// or ending with `-` or `.`, no `--` or `..`, the name at most 96 characters.
    public static func checkRepository(_ repo: String) throws {
        let parts = repo.split(separator: "/", omittingEmptySubsequences: false)
        let allowed = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-_."))
        func valid(_ part: Substring) -> Bool {
            guard let first = part.first, let last = part.last else { return false }
            return part.count <= 96 && part.unicodeScalars.allSatisfy { allowed.contains($0) && $0.isASCII }
                && !"-.".contains(first) && !"-.".contains(last) && !part.contains("--") && !part.contains("..")
        }
        guard parts.count == 2, valid(parts[0]), valid(parts[1]) else {
            throw HubUploadError.badRepository(repo)
        }
    }

    /// Creates the dataset repository `repo`; false when it exists already (the upload then adds
    /// a commit to it). The Hub's refusal of the name comes here, before anything is written.
    public func create(_ repo: String, isPrivate: Bool) async throws -> Bool {
        try Self.checkRepository(repo)
        var report = Report()
        return try await create(repo, isPrivate: isPrivate, report: &report)
    }

    /// Deletes the dataset repository `repo` (one this upload created and could not fill).
    public func delete(_ repo: String) async throws {
        var report = Report()
        try await delete(repo, report: &report)
    }

    /// Uploads `files` (paths relative to `folder`) to the dataset repository `repo` in one commit;
    /// `created` says the repository was created for it (and is deleted if the upload fails).
    public func upload(
        folder: URL, files: [String], repo: String, created: Bool, message: String,
        progress: @Sendable (String) -> Void = { _ in }
    ) async throws -> Report {
        try Self.checkRepository(repo)
        var report = Report()
        report.created = created
        do {
            try await send(
                folder: folder, files: files, repo: repo, message: message, report: &report, progress: progress)
        } catch {
            guard report.created else { throw error }
            // The repository exists only because of this upload: leave nothing behind.
            let deleted = (try? await delete(repo, report: &report)) != nil
            throw HubUploadError.failed(repo: repo, detail: error.localizedDescription, deleted: deleted)
        }
        return report
    }

    private func send(
        folder: URL, files: [String], repo: String, message: String, report: inout Report,
        progress: @Sendable (String) -> Void
    ) async throws {
        struct Entry {
            var path: String
            var data: Data
            var sha256: String
        }
        let entries = try files.map { path -> Entry in
            let data = try Data(contentsOf: folder.appendingPathComponent(path))
            return Entry(path: path, data: data, sha256: Checksum.sha256(data))
        }
        // Which files go through LFS, 256 at a time as the Hub takes them.
        var modes: [String: String] = [:]
        for start in stride(from: 0, to: entries.count, by: 256) {
            let chunk = entries[start..<min(entries.count, start + 256)]
            let body: [String: Any] = [
                "files": chunk.map {
                    ["path": $0.path, "size": $0.data.count, "sample": $0.data.prefix(512).base64EncodedString()]
                }
            ]
            let answer = try await json(
                "POST", "/api/datasets/\(repo)/preupload/main", body: try JSONSerialization.data(withJSONObject: body),
                repo: repo, report: &report)
            for file in (answer["files"] as? [[String: Any]]) ?? [] {
                if let path = file["path"] as? String, let mode = file["uploadMode"] as? String { modes[path] = mode }
            }
        }
        let lfs = entries.filter { modes[$0.path] == "lfs" }
        if !lfs.isEmpty {
            let body: [String: Any] = [
                "operation": "upload", "transfers": ["basic"], "hash_algo": "sha256", "ref": ["name": "main"],
                "objects": lfs.map { ["oid": $0.sha256, "size": $0.data.count] },
            ]
            let answer = try await json(
                "POST", "/datasets/\(repo).git/info/lfs/objects/batch",
                body: try JSONSerialization.data(withJSONObject: body), repo: repo, report: &report,
                contentType: "application/vnd.git-lfs+json")
            let objects = (answer["objects"] as? [[String: Any]]) ?? []
            for entry in lfs {
                guard let object = objects.first(where: { $0["oid"] as? String == entry.sha256 }) else {
                    throw HubUploadError.rejected(status: 200, what: "LFS batch", detail: "no answer for \(entry.path)")
                }
                if let error = object["error"] as? [String: Any] {
                    throw HubUploadError.rejected(
                        status: error["code"] as? Int ?? 0, what: "LFS object \(entry.path)",
                        detail: error["message"] as? String ?? "")
                }
                let actions = object["actions"] as? [String: Any] ?? [:]
                guard let upload = actions["upload"] as? [String: Any], let href = upload["href"] as? String else {
                    report.lfsSkipped += 1
                    continue
                }
                if let header = upload["header"] as? [String: Any], header["chunk_size"] != nil {
                    throw HubUploadError.rejected(
                        status: 200, what: "LFS object \(entry.path)",
                        detail: "the Hub asked for a multipart upload, which cje-prep does not make")
                }
                let headers = (upload["header"] as? [String: String]) ?? [:]
                _ = try await exchange(
                    "PUT", absolute(href), body: entry.data, headers: headers, auth: false, report: &report)
                report.bytesSent += Int64(entry.data.count)
                if let verify = actions["verify"] as? [String: Any], let verifyHref = verify["href"] as? String {
                    let check = try JSONSerialization.data(withJSONObject: [
                        "oid": entry.sha256, "size": entry.data.count,
                    ])
                    _ = try await exchange(
                        "POST", absolute(verifyHref), body: check,
                        headers: ["Content-Type": "application/vnd.git-lfs+json"], auth: true, report: &report)
                }
                progress("sent \(entry.path) (\(entry.data.count) bytes) to LFS storage")
            }
        }
        // One commit: every file, the small ones inline.
        var lines = [try line(["key": "header", "value": ["summary": message, "description": ""]])]
        for entry in entries {
            if modes[entry.path] == "lfs" {
                lines.append(
                    try line([
                        "key": "lfsFile",
                        "value": ["path": entry.path, "algo": "sha256", "oid": entry.sha256, "size": entry.data.count],
                    ]))
                report.lfsFiles += 1
            } else {
                lines.append(
                    try line([
                        "key": "file",
                        "value": [
                            "path": entry.path, "encoding": "base64", "content": entry.data.base64EncodedString(),
                        ],
                    ]))
                report.bytesSent += Int64(entry.data.count)
            }
        }
        let answer = try await json(
            "POST", "/api/datasets/\(repo)/commit/main", body: Data(lines.joined(separator: "\n").utf8), repo: repo,
            report: &report, contentType: "application/x-ndjson")
        report.commit = answer["commitOid"] as? String
        report.files = entries.count
    }

    private func line(_ object: [String: Any]) throws -> String {
        String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
    }

    /// Creates the repository; false when it already exists (the upload adds a commit to it).
    private func create(_ repo: String, isPrivate: Bool, report: inout Report) async throws -> Bool {
        let parts = repo.split(separator: "/")
        let body = try JSONSerialization.data(withJSONObject: [
            "type": "dataset", "organization": String(parts[0]), "name": String(parts[1]), "private": isPrivate,
        ])
        let (status, data) = try await exchange(
            "POST", endpoint + "/api/repos/create", body: body, headers: ["Content-Type": "application/json"],
            auth: true, report: &report, accept: [409])
        if status == 409 { return false }
        _ = data
        return true
    }

    private func delete(_ repo: String, report: inout Report) async throws {
        let parts = repo.split(separator: "/")
        let body = try JSONSerialization.data(withJSONObject: [
            "type": "dataset", "organization": String(parts[0]), "name": String(parts[1]),
        ])
        _ = try await exchange(
            "DELETE", endpoint + "/api/repos/delete", body: body, headers: ["Content-Type": "application/json"],
            auth: true, report: &report)
    }

    private func absolute(_ href: String) -> String { href.hasPrefix("http") ? href : endpoint + href }

    /// A JSON request to the Hub's API; its JSON answer.
    private func json(
        _ method: String, _ path: String, body: Data, repo: String, report: inout Report,
        contentType: String = "application/json"
    ) async throws -> [String: Any] {
        var headers = ["Content-Type": contentType]
        if contentType.hasPrefix("application/vnd.git-lfs") { headers["Accept"] = contentType }
        let (_, data) = try await exchange(
            method, endpoint + path, body: body, headers: headers, auth: true, report: &report)
        return (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:]
    }

    /// One request with retries; the status and body of a 2xx (or of a status in `accept`).
    private func exchange(
        _ method: String, _ url: String, body: Data, headers: [String: String], auth: Bool, report: inout Report,
        accept: Set<Int> = []
    ) async throws -> (Int, Data) {
        try await retry.run(
            ending: HubUploadError.self, tries: &report.requests, retries: &report.retries,
            exhausted: { .exhausted(url: url, attempts: retry.attempts, last: $0) }
        ) { () -> Retrying.Try<(Int, Data)> in
            var request = HTTPClientRequest(url: url)
            request.method = HTTPMethod(rawValue: method)
            for (name, value) in headers { request.headers.add(name: name, value: value) }
            if auth { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
            request.body = .bytes(ByteBuffer(bytes: body))
            let (status, responseHeaders, data) = try await HTTPFetch.send(
                request, timeoutSeconds: retry.timeoutSeconds)
            if (200..<300).contains(status) || accept.contains(status) { return .answer((status, data)) }
            if Retrying.isTransient(status) {
                return .again("HTTP \(status)", retryAfter: Retrying.retryAfter(responseHeaders))
            }
            let said =
                ((try? JSONSerialization.jsonObject(with: data)) as? [String: Any])?["error"] as? String
                ?? String(decoding: data.prefix(300), as: UTF8.self)
            if status == 401 || status == 403 { throw HubUploadError.unauthorized(status: status, detail: said) }
            throw HubUploadError.rejected(status: status, what: "\(method) \(url)", detail: said)
        }
    }
}

public enum HubUploadError: Error, Sendable, Hashable, LocalizedError {
    case missingToken
    case badRepository(String)
    case unauthorized(status: Int, detail: String)
    case rejected(status: Int, what: String, detail: String)
    case exhausted(url: String, attempts: Int, last: String)
    case failed(repo: String, detail: String, deleted: Bool)

    public var errorDescription: String? {
        switch self {
        case .missingToken:
            return
                "HF_TOKEN is not set: make a write token at https://huggingface.co/settings/tokens and set HF_TOKEN to upload (nothing was written or uploaded)"
        case .badRepository(let repo):
            return
                "'\(repo)' is not a Hub repository name: it must be owner/name, each part letters, digits, '-', '_' or '.', not starting or ending with '-' or '.', without '--' or '..', at most 96 characters (nothing was written or uploaded)"
        case .unauthorized(let status, let detail):
            return
                "the Hub refused the token in $HF_TOKEN (HTTP \(status): \(detail)): it must be a write token of the repository's owner"
        case .rejected(let status, let what, let detail):
            return "the Hub refused \(what) (HTTP \(status)): \(detail)"
        case .exhausted(let url, let attempts, let last):
            return "\(url): gave up after \(attempts) attempts; last failure: \(last)"
        case .failed(let repo, let detail, let deleted):
            return
                "the upload to \(repo) failed: \(detail); \(deleted ? "the repository this upload had created was deleted, so nothing is left half uploaded" : "the repository this upload had created could not be deleted: delete it on the Hub")"
        }
    }
}
