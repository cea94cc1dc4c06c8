import AsyncHTTPClient
import CJEInference
public import Foundation
import NIOCore
import NIOHTTP1

#if canImport(Glibc)
    import Glibc
#endif

/// Fetches model files through the Hub's resolve endpoint
/// (`{endpoint}/{repo}/resolve/{revision}/{file}`) into the hub cache: a HEAD for the commit, the
/// LFS sha256 (`X-Linked-Etag`) and the size; then the bytes into `blobs/<sha256>.incomplete`,
/// resumed with a Range request after an interruption, retried on 429, 5xx, timeouts and dropped
/// connections with backoff; checked against the pin or the Hub's sha256 before it is moved into
/// place. One download of a file at a time per cache (a lock); the others wait and then use it.
public struct HubDownloader: Sendable {
    public var endpoint: String
    public var cache: HubCache
    public var token: String?
    /// `HF_HUB_OFFLINE`: only the cache, never a request.
    public var offline: Bool
    /// Eight attempts without progress a file; the timeout is the connect timeout and the
    /// longest wait for the next bytes of a response.
    public var retry = RetryPolicy(attempts: 8, timeoutSeconds: 30)

    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        let endpoint = environment["HF_ENDPOINT"].flatMap { $0.isEmpty ? nil : $0 } ?? "https://huggingface.co"
        self.endpoint = endpoint.hasSuffix("/") ? String(endpoint.dropLast()) : endpoint
        cache = HubCache(environment: environment)
        token = environment["HF_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
        offline = ["1", "true", "yes", "on"].contains((environment["HF_HUB_OFFLINE"] ?? "").lowercased())
    }

    /// How a download is going, for the console.
    public struct Progress: Sendable {
        public var file: HubFile
        public var bytes: Int64
        public var total: Int64?
        public var bytesPerSecond: Double
        /// Another process is downloading this file; this one waits for it.
        public var waiting = false
        public var etaSeconds: Double? {
            guard let total, bytesPerSecond > 0 else { return nil }
            return Double(total - bytes) / bytesPerSecond
        }
    }

    /// A file ready to use.
    public struct Fetched: Sendable, Hashable {
        public var url: URL
        public var commit: String
        /// The sha256 when known without reading the file (the blob's name for LFS files).
        public var sha256: String?
        /// Found in the cache: no byte downloaded.
        public var cached: Bool
        public var requests = 0
        public var retries = 0
        /// Bytes received over the network, and of those, bytes the file already had (a server
        /// that ignored a Range request, or a restart).
        public var bytesReceived: Int64 = 0
        public var bytesResent: Int64 = 0
        /// Bytes a previous, interrupted download had left, kept and resumed from.
        public var bytesResumed: Int64 = 0
    }

    /// The file, from the cache or the Hub. Cache first: a file already in the cache for this
    /// revision is used without a request unless `refresh` asks the Hub where the revision points
    /// now (a moved branch then gets its new file; the run fingerprint's sha256 notices).
    public func fetch(
        _ file: HubFile, refresh: Bool = false, progress: (@Sendable (Progress) -> Void)? = nil
    ) async throws -> Fetched {
        if let hit = cache.cached(file), !refresh || offline {
            // A blob is named by its sha256 (LFS); one named by a git ETag is hashed to check a pin.
            let sha256 =
                HubFile.isHex(hit.blob, count: 64)
                ? hit.blob : try file.sha256.map { _ in try Self.sha256(of: hit.url) }
            if let pin = file.sha256, let sha256, sha256 != pin {
                if offline {
                    throw HubError.pinMismatch(file: file, hub: sha256, commit: hit.commit, where: "in the cache")
                }
            } else {
                return Fetched(url: hit.url, commit: hit.commit, sha256: sha256, cached: true)
            }
        }
        if offline { throw HubError.offline(file: file, cache: cache.root.path) }

        var fetched = Fetched(url: cache.root, commit: "", cached: false)
        let meta = try await head(file, report: &fetched)
        fetched.commit = meta.commit
        if let pin = file.sha256, let hub = meta.sha256, pin != hub {
            throw HubError.pinMismatch(file: file, hub: hub, commit: meta.commit, where: "on the Hub")
        }
        let blobName = meta.sha256 ?? meta.etag
        let blob = cache.blob(file.repo, blobName)
        fetched.url = cache.snapshot(file.repo, commit: meta.commit, file: file.file)
        fetched.sha256 = meta.sha256 ?? file.sha256
        if !FileManager.default.fileExists(atPath: blob.path) {
            let lockFile = cache.lock(file.repo, blobName)
            try FileManager.default.createDirectory(
                at: lockFile.deletingLastPathComponent(), withIntermediateDirectories: true)
            let lock: FileLock
            do {
                lock = try await FileLock.acquire(lockFile.path) {
                    progress?(Progress(file: file, bytes: 0, total: meta.size, bytesPerSecond: 0, waiting: true))
                }
            } catch let failure as FileLock.Failure {
                throw HubError.rejected(status: 0, url: failure.path, detail: failure.localizedDescription)
            }
            defer { lock.release() }
            if !FileManager.default.fileExists(atPath: blob.path) {
                try await download(file, meta: meta, to: blob, report: &fetched, progress: progress)
            } else {
                fetched.cached = true  // another process downloaded it while this one waited
            }
        } else {
            fetched.cached = true
        }
        try cache.place(file, commit: meta.commit, blob: blobName)
        return fetched
    }

    // MARK: - Requests

    struct Metadata {
        var commit: String
        var etag: String
        /// The LFS sha256 (`X-Linked-Etag`), absent for files kept in git itself.
        var sha256: String?
        var size: Int64?
        /// Where the bytes are (the CDN for LFS files), absolute.
        var location: String
    }

    func resolveURL(_ file: HubFile) -> String {
        let path = file.file.split(separator: "/").map {
            $0.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? String($0)
        }.joined(separator: "/")
        let revision = file.revision.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? file.revision
        return "\(endpoint)/\(file.repo)/resolve/\(revision)/\(path)"
    }

    /// The HEAD of the resolve URL, not following the redirect to the bytes (its headers carry
    /// the commit and the sha256); a redirect to the same repository under a new name is followed.
    func head(_ file: HubFile, report: inout Fetched) async throws -> Metadata {
        var url = resolveURL(file)
        for _ in 0..<5 {
            let (status, headers) = try await attempt(file, report: &report) {
                var request = HTTPClientRequest(url: url)
                request.method = .HEAD
                request.headers = self.headers(for: url)
                return request
            }
            let commit = headers.first(name: "X-Repo-Commit")
            let location = headers.first(name: "Location").map { Self.absolute($0, from: url) }
            if (300..<400).contains(status), commit == nil, let location {
                url = location  // a renamed repository
                continue
            }
            guard let commit, HubFile.isHex(commit, count: 40) else {
                throw HubError.notTheHub(url: url, status: status)
            }
            let linked = headers.first(name: "X-Linked-Etag").map(Self.unquote)
            let etag = linked ?? Self.unquote(headers.first(name: "ETag") ?? "")
            let size = (headers.first(name: "X-Linked-Size") ?? headers.first(name: "Content-Length")).flatMap {
                Int64($0)
            }
            guard !etag.isEmpty else { throw HubError.notTheHub(url: url, status: status) }
            return Metadata(
                commit: commit, etag: etag, sha256: linked.flatMap { HubFile.isHex($0, count: 64) ? $0 : nil },
                size: size, location: (300..<400).contains(status) ? (location ?? url) : url)
        }
        throw HubError.rejected(status: 310, url: url, detail: "too many redirects")
    }

    /// One request with retries: returns the status and headers of the first answer that is
    /// neither a 408, 429, 5xx nor a timeout; 401, 403 and 404 become errors that say what to do.
    private func attempt(
        _ file: HubFile, report: inout Fetched, _ make: () -> HTTPClientRequest
    ) async throws -> (Int, HTTPHeaders) {
        return try await retry.run(
            ending: HubError.self, tries: &report.requests, retries: &report.retries,
            exhausted: { .exhausted(file: file, attempts: retry.attempts, last: $0) }
        ) { () -> Retrying.Try<(Int, HTTPHeaders)> in
            let response = try await Self.client.execute(make(), timeout: .seconds(Int64(retry.timeoutSeconds)))
            _ = try? await response.body.collect(upTo: 1 << 20)
            let status = Int(response.status.code)
            if Retrying.isTransient(status) {
                return .again("HTTP \(status)", retryAfter: Retrying.retryAfter(response.headers))
            }
            try check(status, response.headers, file: file)
            return .answer((status, response.headers))
        }
    }

    /// 401, 403 and 404 explained; anything else that is not 2xx or 3xx refused.
    private func check(_ status: Int, _ headers: HTTPHeaders, file: HubFile) throws {
        let code = headers.first(name: "X-Error-Code") ?? ""
        let message = headers.first(name: "X-Error-Message") ?? ""
        switch status {
        case 200..<400: return
        case 401, 403:
            if code == "RepoNotFound" {
                throw HubError.notFound(file: file, what: .repo, endpoint: endpoint, tokenSet: token != nil)
            }
            throw HubError.unauthorized(
                file: file, status: status, tokenSet: token != nil, gated: code == "GatedRepo", message: message)
        case 404:
            let what: HubError.Missing =
                code == "RevisionNotFound" ? .revision : code == "EntryNotFound" ? .file : .repo
            throw HubError.notFound(file: file, what: what, endpoint: endpoint, tokenSet: token != nil)
        default:
            throw HubError.rejected(status: status, url: resolveURL(file), detail: message)
        }
    }

    /// What every request carries: no compression (sizes and ranges count the file's bytes), and
    /// the token when it goes to the Hub itself, never to the storage a redirect points at.
    private func headers(for url: String) -> HTTPHeaders {
        var headers = HTTPHeaders([("Accept-Encoding", "identity")])
        if let token, URL(string: url)?.host == URL(string: endpoint)?.host {
            headers.add(name: "Authorization", value: "Bearer \(token)")
        }
        return headers
    }

    /// Downloads into `<blob>.incomplete` (resuming what is there), checks the sha256, then
    /// renames it to `blob`.
    private func download(
        _ file: HubFile, meta: Metadata, to blob: URL, report: inout Fetched,
        progress: (@Sendable (Progress) -> Void)?
    ) async throws {
        let partial = URL(fileURLWithPath: blob.path + ".incomplete")
        try FileManager.default.createDirectory(at: blob.deletingLastPathComponent(), withIntermediateDirectories: true)
        if !FileManager.default.fileExists(atPath: partial.path) {
            FileManager.default.createFile(atPath: partial.path, contents: nil)
        }
        let handle = try FileHandle(forWritingTo: partial)
        defer { try? handle.close() }
        var have = Int64(try handle.seekToEnd())
        if let size = meta.size, have > size {  // not this file: start again
            try handle.truncate(atOffset: 0)
            have = 0
        }
        report.bytesResumed = have
        // Room for the rest, before a byte is fetched (a model is gigabytes).
        var disk = statvfs()
        if let size = meta.size, statvfs(partial.path, &disk) == 0 {
            let free = Int64(disk.f_bavail) * Int64(disk.f_frsize)
            if free < size - have {
                throw HubError.noSpace(
                    file: file, folder: blob.deletingLastPathComponent().path, needed: size - have, free: free)
            }
        }
        let sink = FileSink(
            handle: handle, path: partial.path, have: have, file: file, total: meta.size, progress: progress)
        var failures = 0
        var last = "none"
        while meta.size.map({ sink.have < $0 }) ?? true {
            var url = meta.location
            var retryAfter: Double?
            let before = sink.received
            do {
                var status = 0
                for _ in 0..<5 {  // redirects, followed here so the token stays with the Hub
                    var headers = self.headers(for: url)
                    if sink.have > 0 { headers.add(name: "Range", value: "bytes=\(sink.have)-") }
                    report.requests += 1
                    let request = try HTTPClient.Request(url: url, method: .GET, headers: headers)
                    // The sink runs on the connection's own event loop, so each part it is handed is
                    // written before the next event (a dropped connection) is processed.
                    let loop = Self.client.eventLoopGroup.next()
                    let head = try await Self.client.execute(
                        request: request, delegate: sink, eventLoop: .delegateAndChannel(on: loop)
                    ).futureResult.get()
                    status = Int(head.status.code)
                    guard (300..<400).contains(status), let location = head.headers.first(name: "Location") else {
                        if Retrying.isTransient(status) {
                            retryAfter = Retrying.retryAfter(head.headers)
                        } else if status != 200 && status != 206 && status != 416 {
                            try check(status, head.headers, file: file)
                            throw HubError.rejected(status: status, url: url, detail: "")
                        }
                        break
                    }
                    url = Self.absolute(location, from: url)
                }
                if status == 416 && meta.size != sink.have { try sink.restart() }
                if status == 200 || status == 206 {
                    if meta.size.map({ sink.have >= $0 }) ?? true { break }
                    last = "the connection ended at byte \(sink.have)"
                } else {
                    last = "HTTP \(status)"
                }
            } catch let error as HubError {
                throw error
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                last = OpenAIClient.isTimeout(error) ? "timeout at byte \(sink.have)" : "\(error) at byte \(sink.have)"
            }
            // A try that brought bytes starts the count again: only tries without progress use
            // up the budget.
            failures = sink.received > before ? 1 : failures + 1
            if failures >= retry.attempts {
                throw HubError.exhausted(file: file, attempts: retry.attempts, last: last)
            }
            report.retries += 1
            try await retry.wait(afterAttempt: failures, retryAfter: retryAfter)
        }
        report.bytesReceived = sink.received
        report.bytesResent = sink.resent
        try handle.synchronize()
        if let size = meta.size, sink.have != size {
            throw HubError.rejected(status: 200, url: meta.location, detail: "\(sink.have) bytes, expected \(size)")
        }
        sink.report(final: true)
        // The sha256 of what arrived, against the pin or the Hub's own.
        if let expected = file.sha256 ?? meta.sha256 {
            let got = try Self.sha256(of: partial)
            if got != expected {
                try? FileManager.default.removeItem(at: partial)
                throw HubError.checksum(
                    file: file, expected: expected, got: got, pinned: file.sha256 != nil, bytes: sink.have)
            }
        }
        guard rename(partial.path, blob.path) == 0 else {
            throw HubError.rejected(status: 0, url: blob.path, detail: "cannot move the download into place")
        }
    }

    // MARK: - Helpers

    /// A client that does not follow redirects itself (the token must not follow them) and gives
    /// up on a connection that sends nothing for 30 seconds; each HEAD is bounded by the retry
    /// policy's own timeout.
    static let client: HTTPClient = {
        var configuration = HTTPClient.Configuration()
        configuration.redirectConfiguration = .disallow
        configuration.timeout = .init(connect: .seconds(30), read: .seconds(30))
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }()

    static func unquote(_ text: String) -> String {
        var t = text
        if t.hasPrefix("W/") { t.removeFirst(2) }
        return t.trimmingCharacters(in: CharacterSet(charactersIn: "\""))
    }

    static func absolute(_ location: String, from url: String) -> String {
        URL(string: location, relativeTo: URL(string: url))?.absoluteString ?? location
    }

    /// The first byte of a 206's `Content-Range: bytes START-END/TOTAL`.
    static func rangeStart(_ headers: HTTPHeaders) -> Int64? {
        guard let range = headers.first(name: "Content-Range"), range.hasPrefix("bytes ") else { return nil }
        return Int64(range.dropFirst(6).prefix { $0 != "-" })
    }

    public static func sha256(of url: URL) throws -> String { try Checksum.sha256(of: url) }
}

/// Writes a download's body to the file part by part as the parts arrive, so every byte that
/// reached this machine before a connection dropped is kept (an async body stream would drop the
/// parts it had buffered when the error came). Only a 200 or 206 is written; a 200, or a 206 that
/// does not start where the file ends, starts the file again (counted as bytes re-sent).
///
/// Invariant for `@unchecked Sendable`: AsyncHTTPClient calls a delegate on its request's event
/// loop, one call at a time, so the mutable state is only ever touched from that loop.
final class FileSink: HTTPClientResponseDelegate, @unchecked Sendable {
    typealias Response = HTTPResponseHead

    private let handle: FileHandle
    private let path: String
    private let file: HubFile
    private let total: Int64?
    private let progress: (@Sendable (Progress) -> Void)?
    private let started = Date()
    private let resumedFrom: Int64
    private lazy var lastShown = started
    private var head: HTTPResponseHead?
    private var writing = false
    /// What the file holds, what came over the network, and how much of that the file had.
    private(set) var have: Int64
    private(set) var received: Int64 = 0
    private(set) var resent: Int64 = 0

    typealias Progress = HubDownloader.Progress

    init(
        handle: FileHandle, path: String, have: Int64, file: HubFile, total: Int64?,
        progress: (@Sendable (Progress) -> Void)?
    ) {
        self.handle = handle
        self.path = path
        self.have = have
        self.file = file
        self.total = total
        self.progress = progress
        resumedFrom = have
    }

    func restart() throws {
        try handle.truncate(atOffset: 0)
        have = 0
    }

    func didReceiveHead(task: HTTPClient.Task<Response>, _ head: HTTPResponseHead) -> EventLoopFuture<Void> {
        self.head = head
        let status = Int(head.status.code)
        writing = status == 200 || status == 206
        if writing && (status == 200 || HubDownloader.rangeStart(head.headers) != have) && have > 0 {
            resent += have  // the server sends it all again
            do { try restart() } catch { return task.eventLoop.makeFailedFuture(error) }
        }
        return task.eventLoop.makeSucceededFuture(())
    }

    func didReceiveBodyPart(task: HTTPClient.Task<Response>, _ buffer: ByteBuffer) -> EventLoopFuture<Void> {
        guard writing else { return task.eventLoop.makeSucceededFuture(()) }
        // write(2) itself, so a full disk is named as such (and ends the download, not retried).
        let failure: Int32? = buffer.withUnsafeReadableBytes { bytes in
            guard let base = bytes.baseAddress else { return nil }  // nothing to write
            var offset = 0
            while offset < bytes.count {
                let n = write(handle.fileDescriptor, base + offset, bytes.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    return errno
                }
                offset += n
            }
            return nil
        }
        if let failure {
            return task.eventLoop.makeFailedFuture(
                HubError.cannotWrite(path: path, reason: HubError.describe(errno: failure)))
        }
        have += Int64(buffer.readableBytes)
        received += Int64(buffer.readableBytes)
        if Date().timeIntervalSince(lastShown) >= 1 { report(final: false) }
        return task.eventLoop.makeSucceededFuture(())
    }

    func report(final: Bool) {
        lastShown = Date()
        let rate = Double(have - resumedFrom) / max(1e-3, lastShown.timeIntervalSince(started))
        progress?(Progress(file: file, bytes: have, total: total, bytesPerSecond: rate))
    }

    func didFinishRequest(task: HTTPClient.Task<Response>) throws -> Response {
        guard let head else { throw HTTPClientError.remoteConnectionClosed }
        return head
    }
}

public enum HubError: Error, Sendable, Hashable, LocalizedError {
    /// "No space left on device (ENOSPC)".
    static func describe(errno code: Int32) -> String { FileFailure.describe(errno: code) }

    public enum Missing: Sendable, Hashable { case repo, revision, file }

    case unauthorized(file: HubFile, status: Int, tokenSet: Bool, gated: Bool, message: String)
    case notFound(file: HubFile, what: Missing, endpoint: String, tokenSet: Bool)
    case offline(file: HubFile, cache: String)
    case pinMismatch(file: HubFile, hub: String, commit: String, where: String)
    case checksum(file: HubFile, expected: String, got: String, pinned: Bool, bytes: Int64)
    case exhausted(file: HubFile, attempts: Int, last: String)
    case cannotWrite(path: String, reason: String)
    case noSpace(file: HubFile, folder: String, needed: Int64, free: Int64)
    case notTheHub(url: String, status: Int)
    case rejected(status: Int, url: String, detail: String)

    public var errorDescription: String? {
        switch self {
        case .unauthorized(let file, let status, let tokenSet, let gated, let message):
            let page = "https://huggingface.co/\(file.repo)"
            let said = message.isEmpty ? "" : " (the Hub says: \(message))"
            if tokenSet {
                return
                    "the Hub refused the token in $HF_TOKEN for \(file.repo) (HTTP \(status))\(said): \(gated ? "the repository is gated: accept its terms at \(page) with the account the token belongs to" : "check that the token is valid and may read \(file.repo)")"
            }
            return
                "\(file.repo) needs a token (HTTP \(status))\(said): it is \(gated ? "gated" : "gated or private"): accept its terms at \(page), make a read token at https://huggingface.co/settings/tokens and set HF_TOKEN"
        case .notFound(let file, let what, let endpoint, let tokenSet):
            switch what {
            case .repo:
                return
                    "no repository \(file.repo) on \(endpoint)\(tokenSet ? "" : " (or it is private: set HF_TOKEN)"): check 'hf' in the config"
            case .revision:
                return
                    "\(file.repo) has no revision '\(file.revision)': check 'revision' (a branch, tag or commit)"
            case .file:
                return
                    "\(file.repo) has no file '\(file.file)' at revision '\(file.revision)': check 'file' (the path inside the repository, e.g. a .gguf file listed under Files)"
            }
        case .offline(let file, let cache):
            return
                "\(file) is not in the Hugging Face cache at \(cache) and HF_HUB_OFFLINE is set: fetch it once with network (`cje-prep fetch-models --config ...`), or unset HF_HUB_OFFLINE"
        case .pinMismatch(let file, let hub, let commit, let place):
            return
                "\(file) at commit \(commit.prefix(12)) has sha256 \(hub) \(place), not the pinned \(file.sha256 ?? ""): the revision now points at another file; pin a commit as revision, or update sha256 in the config"
        case .checksum(let file, let expected, let got, let pinned, let bytes):
            return
                "the download of \(file) (\(bytes) bytes) has sha256 \(got), not \(expected) (\(pinned ? "the pin in the config" : "the Hub's LFS sha256")); nothing was kept: run again to download it afresh"
        case .cannotWrite(let path, let reason):
            return "cannot write \(path): \(reason); what was written is kept and the next try resumes from it"
        case .noSpace(let file, let folder, let needed, let free):
            return String(
                format:
                    "%@ needs %.2f GB more in %@, and %.2f GB are free: make room, or point HF_HUB_CACHE (or HF_HOME) at a larger disk",
                file.description, Double(needed) / 1e9, folder, Double(free) / 1e9)
        case .exhausted(let file, let attempts, let last):
            return "\(file): gave up after \(attempts) attempts without progress; last failure: \(last)"
        case .notTheHub(let url, let status):
            return
                "\(url) answered HTTP \(status) without the Hub's X-Repo-Commit and ETag headers: is HF_ENDPOINT a Hugging Face Hub or a mirror of it?"
        case .rejected(let status, let url, let detail):
            return "\(url): \(status == 0 ? "" : "HTTP \(status): ")\(detail)"
        }
    }
}
