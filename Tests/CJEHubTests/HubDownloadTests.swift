import CJEInference
import CJEProviders
import CJETestSupport
import Foundation
import Testing

/// Models by Hugging Face reference, against a local stand-in for the Hub's resolve endpoint
/// (Tests/Integration/fake_hub.py): the hub cache layout, resume with Range after a dropped
/// connection, retries, the sha256 check, gated repositories, offline use, concurrent fetches.
@Suite("Hugging Face Hub models", .serialized)
struct HubDownloadTests {
    static let commit = "0123456789abcdef0123456789abcdef01234567"

    /// 3 MiB of seeded bytes (so a dropped connection falls mid-file), and their sha256.
    static let payload: (url: URL, sha256: String, size: Int) = {
        var generator = SeededBytes(seed: 20_261_201)
        let data = Data((0..<(3 << 20)).map { _ in generator.next() })
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("hub-payload-\(UUID().uuidString).gguf")
        try! data.write(to: url)
        return (url, try! HubDownloader.sha256(of: url), data.count)
    }()

    struct Stats: Decodable {
        var requests: Int
        var heads: Int
        var downloads: Int
        var bytes_sent: Int
        var ranges: [String]
        var auth: [String]
        var cdn_auth: Int
        var faults: [String: Int]
    }

    /// A stand-in serving `test/tiny` (and the gated `test/gated`) with `faults`.
    static func hub(faults: [String] = []) throws -> PythonPeer {
        let spec: [String: Any] = [
            "repos": [
                "test/tiny": [
                    "commit": commit, "files": ["tiny.gguf": payload.url.path, "sub/dir/tiny.gguf": payload.url.path],
                ],
                "test/gated": ["commit": commit, "files": ["tiny.gguf": payload.url.path], "gated": true],
            ],
            "token": "hf_good_token", "faults": faults,
        ]
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("hub-spec-\(UUID().uuidString).json")
        try JSONSerialization.data(withJSONObject: spec).write(to: url)
        return try PythonPeer(script: "fake_hub.py", arguments: [url.path])
    }

    static func downloader(_ server: PythonPeer?, cache: URL, _ extra: [String: String] = [:]) -> HubDownloader {
        var environment = ["HF_HUB_CACHE": cache.path, "HF_ENDPOINT": server?.baseURL ?? "http://127.0.0.1:9"]
        environment.merge(extra) { $1 }
        var downloader = HubDownloader(environment: environment)
        downloader.retry.initialBackoffSeconds = 0.05
        return downloader
    }

    static func freshCache() -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("hub-cache-\(UUID().uuidString)")
    }

    static let tiny = HubFile(repo: "test/tiny", file: "tiny.gguf")

    /// The layout huggingface_hub itself writes and reads.
    static func expectLayout(_ cache: URL, file: String = "tiny.gguf") throws {
        let repo = cache.appendingPathComponent("models--test--tiny")
        let link = repo.appendingPathComponent("snapshots/\(commit)/\(file)")
        let depth = file.split(separator: "/").count + 1
        #expect(
            try FileManager.default.destinationOfSymbolicLink(atPath: link.path)
                == String(repeating: "../", count: depth) + "blobs/\(payload.sha256)")
        #expect(try HubDownloader.sha256(of: link) == payload.sha256)
        #expect(try String(contentsOf: repo.appendingPathComponent("refs/main"), encoding: .utf8) == commit)
        let blobs = try FileManager.default.contentsOfDirectory(atPath: repo.appendingPathComponent("blobs").path)
        #expect(blobs == [payload.sha256], "no .incomplete left")
    }

    @Test("a connection dropped mid-file is resumed with Range: no byte is sent twice")
    func droppedConnection() async throws {
        let server = try Self.hub(faults: ["drop"])
        let cache = Self.freshCache()
        let seen = ProgressSeen()
        let fetched = try await Self.downloader(server, cache: cache).fetch(Self.tiny) { seen.add($0) }
        let stats = try await server.stats(Stats.self)
        let half = Self.payload.size / 2
        #expect(stats.faults == ["drop": 1] && stats.ranges == ["", "bytes=\(half)-"])
        #expect(stats.bytes_sent == Self.payload.size, "the first half once, then the rest: 0 bytes re-sent")
        #expect(fetched.bytesReceived == Int64(Self.payload.size) && fetched.bytesResent == 0)
        #expect(fetched.retries == 1 && !fetched.cached && fetched.commit == Self.commit)
        #expect(fetched.sha256 == Self.payload.sha256)
        #expect(seen.last?.bytes == Int64(Self.payload.size) && seen.last?.total == Int64(Self.payload.size))
        try Self.expectLayout(cache)
    }

    @Test("an interrupted download left in the cache is resumed by the next invocation")
    func resumeAcrossInvocations() async throws {
        let server = try Self.hub()
        let cache = Self.freshCache()
        let blobs = cache.appendingPathComponent("models--test--tiny/blobs")
        try FileManager.default.createDirectory(at: blobs, withIntermediateDirectories: true)
        let had = 1_000_000
        try Data(contentsOf: Self.payload.url).prefix(had).write(
            to: blobs.appendingPathComponent(Self.payload.sha256 + ".incomplete"))
        let fetched = try await Self.downloader(server, cache: cache).fetch(Self.tiny)
        let stats = try await server.stats(Stats.self)
        #expect(stats.ranges == ["bytes=\(had)-"] && stats.bytes_sent == Self.payload.size - had)
        #expect(fetched.bytesResumed == Int64(had) && fetched.bytesResent == 0)
        try Self.expectLayout(cache)
    }

    @Test("a server that ignores Range sends everything again; the count says so and the file is right")
    func ignoredRange() async throws {
        let server = try Self.hub(faults: ["drop", "ignore-range"])
        let cache = Self.freshCache()
        let fetched = try await Self.downloader(server, cache: cache).fetch(Self.tiny)
        #expect(fetched.bytesResent == Int64(Self.payload.size / 2))
        try Self.expectLayout(cache)
    }

    @Test("a 429 and a 500 are retried (Retry-After honoured), then the file arrives")
    func retries() async throws {
        let server = try Self.hub(faults: ["429", "500"])
        let cache = Self.freshCache()
        let started = Date()
        let fetched = try await Self.downloader(server, cache: cache).fetch(Self.tiny)
        #expect(Date().timeIntervalSince(started) >= 1, "Retry-After: 1")
        let stats = try await server.stats(Stats.self)
        #expect(stats.faults == ["429": 1, "500": 1] && fetched.retries == 2)
        try Self.expectLayout(cache)
    }

    @Test("bytes whose sha256 is not the Hub's are refused and nothing is left in place")
    func checksumMismatch() async throws {
        let server = try Self.hub(faults: ["corrupt"])
        let cache = Self.freshCache()
        await #expect {
            _ = try await Self.downloader(server, cache: cache).fetch(Self.tiny)
        } throws: { error in
            let text = (error as? HubError)?.errorDescription ?? ""
            return text.contains("not \(Self.payload.sha256)") && text.contains("nothing was kept")
        }
        let repo = cache.appendingPathComponent("models--test--tiny")
        #expect((try? FileManager.default.contentsOfDirectory(atPath: repo.appendingPathComponent("blobs").path)) == [])
        #expect(!FileManager.default.fileExists(atPath: repo.appendingPathComponent("snapshots").path))
        #expect(!FileManager.default.fileExists(atPath: repo.appendingPathComponent("refs/main").path))
        // The next try downloads it afresh and succeeds.
        _ = try await Self.downloader(server, cache: cache).fetch(Self.tiny)
        try Self.expectLayout(cache)
    }

    @Test("a pinned sha256 that is not the Hub's is refused before any byte is downloaded")
    func pinMismatch() async throws {
        let server = try Self.hub()
        var file = Self.tiny
        file.sha256 = String(repeating: "ab", count: 32)
        await #expect {
            _ = try await Self.downloader(server, cache: Self.freshCache()).fetch(file)
        } throws: { error in
            ((error as? HubError)?.errorDescription ?? "").contains("not the pinned \(file.sha256!)")
        }
        #expect(try await server.stats(Stats.self).downloads == 0)
        file.sha256 = Self.payload.sha256
        _ = try await Self.downloader(server, cache: Self.freshCache()).fetch(file)
    }

    @Test("a gated repository: 401 explained without a token, downloaded with one")
    func gated() async throws {
        let server = try Self.hub()
        let cache = Self.freshCache()
        let gated = HubFile(repo: "test/gated", file: "tiny.gguf")
        await #expect {
            _ = try await Self.downloader(server, cache: cache).fetch(gated)
        } throws: { error in
            let text = (error as? HubError)?.errorDescription ?? ""
            return text.contains("test/gated needs a token (HTTP 401)") && text.contains("accept its terms")
                && text.contains("set HF_TOKEN") && text.contains("is restricted")
        }
        await #expect {
            _ = try await Self.downloader(server, cache: cache, ["HF_TOKEN": "hf_wrong"]).fetch(gated)
        } throws: { error in
            ((error as? HubError)?.errorDescription ?? "").contains("refused the token in $HF_TOKEN")
        }
        let fetched = try await Self.downloader(server, cache: cache, ["HF_TOKEN": "hf_good_token"]).fetch(gated)
        #expect(try HubDownloader.sha256(of: fetched.url) == Self.payload.sha256)
        let stats = try await server.stats(Stats.self)
        #expect(stats.auth == ["Bearer hf_wrong", "Bearer hf_good_token"])
        #expect(stats.downloads == 1 && stats.cdn_auth == 0, "the token stays with the Hub, not its storage host")
    }

    @Test("a missing repository, revision or file each say which")
    func missing() async throws {
        let server = try Self.hub()
        let cases: [(HubFile, String)] = [
            (HubFile(repo: "test/nope", file: "tiny.gguf"), "no repository test/nope"),
            (HubFile(repo: "test/tiny", file: "tiny.gguf", revision: "v9"), "has no revision 'v9'"),
            (HubFile(repo: "test/tiny", file: "other.gguf"), "has no file 'other.gguf'"),
        ]
        for (file, words) in cases {
            await #expect {
                _ = try await Self.downloader(server, cache: Self.freshCache()).fetch(file)
            } throws: { error in
                ((error as? HubError)?.errorDescription ?? "").contains(words)
            }
        }
    }

    @Test("offline: the cached file is used without a request; a missing one is an error that says so")
    func offline() async throws {
        let server = try Self.hub()
        let cache = Self.freshCache()
        let nested = HubFile(repo: "test/tiny", file: "sub/dir/tiny.gguf")
        let first = try await Self.downloader(server, cache: cache).fetch(nested)
        try Self.expectLayout(cache, file: "sub/dir/tiny.gguf")
        let before = try await server.stats(Stats.self).requests
        let again = try await Self.downloader(server, cache: cache, ["HF_HUB_OFFLINE": "1"]).fetch(
            nested, refresh: true)
        #expect(again.cached && again.url == first.url && again.commit == Self.commit)
        #expect(try await server.stats(Stats.self).requests == before)
        await #expect {
            _ = try await Self.downloader(server, cache: cache, ["HF_HUB_OFFLINE": "1"]).fetch(Self.tiny)
        } throws: { error in
            ((error as? HubError)?.errorDescription ?? "").contains("HF_HUB_OFFLINE is set")
        }
    }

    @Test("a file placed beforehand in the hub cache layout is used without a request")
    func placedBeforehand() async throws {
        let cache = Self.freshCache()
        // As huggingface-cli or llama.cpp leave it.
        let repo = cache.appendingPathComponent("models--test--tiny")
        try FileManager.default.createDirectory(
            at: repo.appendingPathComponent("blobs"), withIntermediateDirectories: true)
        try FileManager.default.copyItem(
            at: Self.payload.url, to: repo.appendingPathComponent("blobs/\(Self.payload.sha256)"))
        try FileManager.default.createDirectory(
            at: repo.appendingPathComponent("snapshots/\(Self.commit)"), withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(
            atPath: repo.appendingPathComponent("snapshots/\(Self.commit)/tiny.gguf").path,
            withDestinationPath: "../../blobs/\(Self.payload.sha256)")
        try FileManager.default.createDirectory(
            at: repo.appendingPathComponent("refs"), withIntermediateDirectories: true)
        try Self.commit.write(to: repo.appendingPathComponent("refs/main"), atomically: true, encoding: .utf8)
        // No server at all: a request would fail.
        let fetched = try await Self.downloader(nil, cache: cache).fetch(Self.tiny)
        #expect(fetched.cached && fetched.requests == 0 && fetched.sha256 == Self.payload.sha256)
        // A pin is checked against the cached file too.
        var pinned = Self.tiny
        pinned.sha256 = String(repeating: "cd", count: 32)
        await #expect {
            _ = try await Self.downloader(nil, cache: cache, ["HF_HUB_OFFLINE": "1"]).fetch(pinned)
        } throws: { error in
            ((error as? HubError)?.errorDescription ?? "").contains("in the cache, not the pinned")
        }
        pinned.sha256 = Self.payload.sha256
        #expect(try await Self.downloader(nil, cache: cache, ["HF_HUB_OFFLINE": "1"]).fetch(pinned).cached)
        // A commit as revision needs no ref either.
        let byCommit = HubFile(repo: "test/tiny", file: "tiny.gguf", revision: Self.commit)
        #expect(try await Self.downloader(nil, cache: cache).fetch(byCommit).cached)
    }

    @Test("concurrent fetches of one file: one download, the others wait on the lock and use it")
    func concurrent() async throws {
        let server = try Self.hub()
        let cache = Self.freshCache()
        let results = try await withThrowingTaskGroup(of: HubDownloader.Fetched.self) { group in
            for _ in 0..<3 { group.addTask { try await Self.downloader(server, cache: cache).fetch(Self.tiny) } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(results.count == 3 && Set(results.map(\.url)).count == 1)
        #expect(results.filter { !$0.cached }.count == 1, "the others found it in the cache")
        let stats = try await server.stats(Stats.self)
        #expect(stats.downloads == 1 && stats.bytes_sent == Self.payload.size)
        try Self.expectLayout(cache)
    }
}

/// Progress reports seen, in order.
final class ProgressSeen: Sendable {
    private let items = LockedValue([HubDownloader.Progress]())
    func add(_ p: HubDownloader.Progress) { items.update { $0.append(p) } }
    var last: HubDownloader.Progress? { items.current.last }
}

/// xorshift64*: the same bytes on every machine.
struct SeededBytes {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt8 {
        state ^= state >> 12
        state ^= state << 25
        state ^= state >> 27
        return UInt8(truncatingIfNeeded: (state &* 2_685_821_657_736_338_717) >> 56)
    }
}
