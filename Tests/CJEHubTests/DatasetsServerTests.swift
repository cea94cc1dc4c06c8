import CJEPipeline
import CJEProviders
import CJETestSupport
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The online prompt source, against a local stand-in for the datasets-server rows API
/// (Tests/Integration/fake_datasets_server.py): pages, retries, cache, HF_TOKEN.
@Suite("Hugging Face datasets-server prompt source", .serialized)
struct DatasetsServerTests {
    /// 250 Arena rows: every 10th in German, one duplicate prompt, one the server truncates.
    static func arenaRows() throws -> URL {
        var lines: [String] = []
        for i in 0..<250 {
            var row: [String: Any] = [
                "question_id": String(format: "q%04d", i), "model_a": "a", "model_b": "b", "turn": 1,
                "language": i % 10 == 3 ? "German" : "English", "tstamp": 1.0 + Double(i),
                "conversation_a": [
                    ["role": "user", "content": i == 17 ? "Prompt number 16?" : "Prompt number \(i)?"],
                    ["role": "assistant", "content": "Answer."],
                ],
                "conversation_b": [["role": "user", "content": "x"]],
                "openai_moderation": ["flagged": false, "categories": [:], "category_scores": ["harassment": 0.01]],
            ]
            if i == 42 { row["__truncate"] = true }
            lines.append(String(decoding: try JSONSerialization.data(withJSONObject: row), as: UTF8.self))
        }
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("arena-\(UUID().uuidString).jsonl")
        try lines.joined(separator: "\n").write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    struct Stats: Decodable {
        var requests: Int
        var faults: [String: Int]
        var auth: [String]
    }

    static func config(endpoint: String, n: Int = 12) throws -> PipelineConfig {
        try PipelineConfig.parse(
            """
            n: \(n)
            prompts:
              source: hf:test/arena
              hf_endpoint: \(endpoint)
            """, path: "hf.yaml")
    }

    /// The prompts stage only tokenizes (to leave out prompts that cannot fit): a fake engine.
    static func pipeline(_ config: PipelineConfig, dir: URL, cache: URL, lines: Lines? = nil) -> Pipeline {
        var settings = Pipeline.Settings()
        settings.cacheRoot = cache
        return Pipeline(
            config: config, run: RunDirectory(root: dir),
            fingerprint: try! RunFingerprint(config: config, models: [:], engine: "none"),
            engine: { _ in FakeEngine() }, say: { lines?.add($0) }, settings: settings)
    }

    @Test("rows are read page by page through a 500 and a 429, with the token; a second run reads the cache")
    func pagesRetriesCache() async throws {
        let rows = try Self.arenaRows()
        let server = try PythonPeer(
            script: "fake_datasets_server.py", arguments: [rows.path, "test/arena", "500,429"])
        setenv("HF_TOKEN", "hf_test_token_123", 1)
        defer { unsetenv("HF_TOKEN") }
        let cache = FileManager.default.temporaryDirectory.appendingPathComponent("hfcache-\(UUID().uuidString)")
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("hfrun-\(UUID().uuidString)")
        let lines = Lines()
        let config = try Self.config(endpoint: server.baseURL)
        _ = try await Self.pipeline(config, dir: dir, cache: cache, lines: lines).execute(through: .prompts)

        let stats = try await server.stats(Stats.self)
        #expect(stats.requests == 3 + 2, "three pages of 100 and the two faults")
        #expect(stats.faults == ["500": 1, "429": 1] && stats.auth == ["Bearer hf_test_token_123"])
        #expect(lines.all.contains { $0.contains("250 rows of hf:test/arena") && $0.contains("1 rows left out") })

        let prompts = try JSONLines.decode(PromptRecord.self, from: RunDirectory(root: dir).prompts)
        #expect(prompts.count == 12)
        // The same rows from a local file give the same sample: ids derive from question_id.
        let local = PromptSource.sample(
            try PromptSource.load(from: rows).filter { $0.promptId != "arena_q0042" }, n: 12, seed: config.seed)
        #expect(prompts.map(\.promptId) == local.map(\.promptId))
        #expect(prompts.allSatisfy { $0.metadata.source == "hf:test/arena" && $0.prompt.hasPrefix("Prompt number") })
        #expect(!prompts.contains { $0.promptId == "arena_q0042" || $0.metadata.language == "German" })

        // Offline now: the cached pages serve the same prompts (and a larger n extends them).
        server.process.terminate()
        let again = FileManager.default.temporaryDirectory.appendingPathComponent("hfrun-\(UUID().uuidString)")
        _ = try await Self.pipeline(Self.config(endpoint: server.baseURL, n: 20), dir: again, cache: cache)
            .execute(through: .prompts)
        let more = try JSONLines.decode(PromptRecord.self, from: RunDirectory(root: again).prompts)
        #expect(Array(more.prefix(12)) == prompts && more.count == 20)
    }

    @Test("an unknown dataset fails with the server's message; no run is written")
    func unknownDataset() async throws {
        let server = try PythonPeer(
            script: "fake_datasets_server.py", arguments: [try Self.arenaRows().path, "test/arena", ""])
        var config = try Self.config(endpoint: server.baseURL)
        config.prompts.source = "hf:test/nope"
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("hfrun-\(UUID().uuidString)")
        let cache = FileManager.default.temporaryDirectory.appendingPathComponent("hfcache-\(UUID().uuidString)")
        await #expect {
            _ = try await Self.pipeline(config, dir: dir, cache: cache).execute(through: .prompts)
        } throws: { error in
            error.localizedDescription.contains("HTTP 404") && error.localizedDescription.contains("does not exist")
        }
        #expect(!FileManager.default.fileExists(atPath: RunDirectory(root: dir).prompts.path))
    }

    @Test("rows that changed under a run (read again, not from the cache) are refused, naming the dataset")
    func rowsChanged() async throws {
        let rows = try Self.arenaRows()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("hfrun-\(UUID().uuidString)")
        let first = try PythonPeer(script: "fake_datasets_server.py", arguments: [rows.path, "test/arena", ""])
        let cache = FileManager.default.temporaryDirectory.appendingPathComponent("hfcache-\(UUID().uuidString)")
        _ = try await Self.pipeline(Self.config(endpoint: first.baseURL), dir: dir, cache: cache)
            .execute(through: .prompts)
        first.process.terminate()
        let text = try String(contentsOf: rows, encoding: .utf8)
        try text.replacingOccurrences(of: "Prompt number 5?", with: "Prompt number five?")
            .write(to: rows, atomically: true, encoding: .utf8)
        let second = try PythonPeer(script: "fake_datasets_server.py", arguments: [rows.path, "test/arena", ""])
        let fresh = FileManager.default.temporaryDirectory.appendingPathComponent("hfcache-\(UUID().uuidString)")
        await #expect {
            _ = try await Self.pipeline(Self.config(endpoint: second.baseURL), dir: dir, cache: fresh)
                .execute(through: .prompts)
        } throws: { error in
            guard case PipelineError.fingerprintMismatch(_, let changes) = error else { return false }
            return changes.count == 1 && changes[0].hasPrefix("the rows of hf:test/arena: 250 rows, sha256 ")
        }
    }
}
