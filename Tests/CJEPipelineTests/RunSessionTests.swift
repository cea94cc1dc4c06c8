import CJEInference
import CJEPipeline
import CJETestSupport
import Foundation
import Testing

/// The fake engine as the local models of a session.
struct FakeModels: LocalModels {
    let fake: FakeEngine
    var infos: [String: ModelInfo] { ["default": fake.modelInfo] }
    var engineIdentity: String { "fake" }
    var systemInfo: String { "fake engine" }
    func engine(for name: String, chatDate: ChatDate) throws -> any TextEngine { fake }

    static func loader(_ fake: FakeEngine = FakeEngine()) -> LocalModelLoader {
        { _, files in
            #expect(files.keys.sorted() == ["default"])
            return FakeModels(fake: fake)
        }
    }
}

/// The library entry point: a session opens a run directory once, runs, merges and closes.
@Suite("Run sessions")
struct RunSessionTests {
    static func config() throws -> PipelineConfig {
        var config = try PipelineConfig.parse(FakeRun.yaml, path: "session.yaml")
        config.models["default"]?.path = "/fake/fake-model.gguf"
        return config
    }

    @Test("a session runs the plan as Pipeline.execute does, holds the directory until closed, and logs")
    func runAndLock() async throws {
        let dir = temporaryDirectory("session-run")
        let request = RunRequest(directory: dir, config: try Self.config())
        let session = try await RunSession.open(request, models: FakeModels.loader(), signals: false, say: { _ in })
        await #expect(throws: PipelineError.self) {
            _ = try await RunSession.open(request, models: FakeModels.loader(), signals: false, say: { _ in })
        }
        let reports = try await session.run()
        session.close()
        #expect(reports.map(\.stage) == ["generate", "logprobs", "judge", "oracle_calibration", "oracle_validation"])
        let log = try String(contentsOf: session.log.url, encoding: .utf8)
        #expect(log.contains("cje-prep run: run directory") && log.contains("done in"))
        #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent("report/index.html").path))

        // The same run through Pipeline directly: the same data files.
        var direct = try FakeRun("session-direct")
        direct.config = try Self.config()
        try await direct.pipeline { $0.chatDate = session.chatDate }.execute()
        #expect(try FakeRun.outputs(in: dir) == (try direct.outputs()))

        // Closed: another invocation may open it (and has nothing to do).
        let again = try await RunSession.open(request, models: FakeModels.loader(), signals: false, say: { _ in })
        defer { again.close() }
        #expect(try await again.run().allSatisfy { $0.doneNow == 0 })
    }

    @Test("what the stages refuse fails before anything is written")
    func refusal() async throws {
        let dir = temporaryDirectory("session-refusal").appendingPathComponent("run")
        var config = try Self.config()
        config.providers["srv"] = ProviderConfig(baseURLs: ["http://fake.invalid/v1"], model: "m")
        config.policies[2].provider = "srv"
        config.logprobs = .required
        await #expect(throws: RunRefusal.self) {
            _ = try await RunSession.open(
                RunRequest(directory: dir, config: config), models: FakeModels.loader(), signals: false, say: { _ in })
        }
        #expect(!FileManager.default.fileExists(atPath: dir.path))
    }

    @Test("a merge without a config takes the shards' settings: the unsplit run's data files")
    func mergeWithoutConfig() async throws {
        let config = try Self.config()
        let whole = temporaryDirectory("session-whole")
        let split = temporaryDirectory("session-split")
        for (dir, shards) in [(whole, [Shard?.none]), (split, try (0..<3).map { try Shard(index: $0, count: 3) })] {
            for shard in shards {
                let session = try await RunSession.open(
                    RunRequest(directory: dir, config: config, shard: shard), models: FakeModels.loader(),
                    signals: false, say: { _ in })
                defer { session.close() }
                try await session.run()
            }
        }
        let fromShards = try RunRequest.shardsConfig(of: split)
        #expect(try RunFingerprint.configText(of: fromShards) == (try RunFingerprint.configText(of: config)))
        let merge = try await RunSession.open(
            RunRequest(directory: split, config: fromShards, merge: true), models: FakeModels.loader(), signals: false,
            say: { _ in })
        defer { merge.close() }
        try await merge.run()
        #expect(try FakeRun.outputs(in: whole) == (try FakeRun.outputs(in: split)))
    }
}

/// A failure's kind travels in the journal; journals of the last version (no kind) still load.
@Suite("Journal compatibility")
struct JournalCompatibilityTests {
    struct LastEntry: Decodable {
        var attempt: Int
        var value: LastVersionRecord
    }

    /// `ResponseRecord` as the last version decoded it (no `error_kind`).
    struct LastVersionRecord: Decodable {
        var response: String?
        var model: String
        var temperature: Double
        var system_prompt: String
        var max_tokens: Int
        var seed: UInt64
        var error: String?
    }

    @Test("an entry of the last version loads (its failure retried once); this version's loads in the last one")
    func bothWays() throws {
        let old = Data(
            #"{"attempt":1,"policy":"p0","prompt_id":"a","value":{"error":"request 0: needs 3000 tokens but a sequence holds at most 2048","max_tokens":40,"model":"m","seed":1,"system_prompt":"s","temperature":0.5}}"#
                .utf8)
        let entry = try JSONDecoder().decode(JournalEntry<ResponseRecord>.self, from: old)
        #expect(entry.value.error != nil && entry.value.errorKind == nil)

        var record = entry.value
        record.errorKind = .permanent
        let new = try JSONEncoder().encode(JournalEntry(key: entry.key, attempt: 2, value: record))
        #expect(String(decoding: new, as: UTF8.self).contains(#""error_kind":"permanent""#))
        let read = try JSONDecoder().decode(LastEntry.self, from: new)
        #expect(read.attempt == 2 && read.value.error == record.error)
    }
}
