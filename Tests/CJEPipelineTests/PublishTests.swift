import CJEPipeline
import CJEProviders
import CJETestSupport
import Foundation
import Testing

/// `cje-prep publish` without the Hub: the folder, the card, and what is refused.
@Suite("Publishing a run")
struct PublishTests {
    @Test("a validated run becomes a folder whose card declares every config and its features")
    func folder() async throws {
        let run = try FakeRun("publish")
        try await run.execute()
        let out = temporaryDirectory("publish-out").appendingPathComponent("set")
        let dataset = try DatasetFolder(run: run.run, license: "cc-by-4.0")
        let files = try dataset.write(to: out)
        #expect(
            files.contains("README.md") && files.contains("data/responses.jsonl") && files.contains("cje/analyze.py"))
        let card = try String(contentsOf: out.appendingPathComponent("README.md"), encoding: .utf8)
        #expect(card.hasPrefix("---\nlicense: cc-by-4.0\n") && card.contains("size_categories:\n- n<1K"))
        for config in dataset.configs {
            #expect(
                card.contains(
                    "- config_name: \(config.name)\n  data_files:\n  - split: train\n    path: \(config.path)"))
            #expect(card.contains("- config_name: \(config.name)\n  features:\n  - name: "))
        }
        // The data files are the run's own bytes, concatenated.
        let responses = try Data(contentsOf: out.appendingPathComponent("data/responses.jsonl"))
        let own = try ["p0", "pi_clone", "pi_bad"].map { try Data(contentsOf: run.run.freshDraws($0)) }
        #expect(responses == own.reduce(Data(), +))
        // Published again: replaced; a folder that is not a publication is refused, untouched.
        try dataset.write(to: out)
        let other = temporaryDirectory("publish-other")
        try Data("mine".utf8).write(to: other.appendingPathComponent("notes.txt"))
        #expect(throws: PipelineError.self) { try dataset.write(to: other) }
        #expect(try FileManager.default.contentsOfDirectory(atPath: other.path) == ["notes.txt"])
    }

    @Test("draws: 2 overridden by every policy's draws: 1 writes no draws files, and publishing reads none")
    func overriddenDraws() async throws {
        var run = try FakeRun("publish-draws")
        run.config.draws = 2
        for k in run.config.policies.indices { run.config.policies[k].draws = 1 }
        try await run.execute()
        #expect(!FileManager.default.fileExists(atPath: run.run.scored(.draws, .uncertainty).path))
        let out = temporaryDirectory("publish-draws-out").appendingPathComponent("set")
        let files = try DatasetFolder(run: run.run).write(to: out)
        #expect(files.contains("data/scores.jsonl"))
    }

    @Test("an unfinished run, a bad repository name and a missing token are refused before anything is written")
    func refused() async throws {
        let run = try FakeRun("publish-partial")
        try await run.execute(through: .judge)
        let out = temporaryDirectory("publish-refused").appendingPathComponent("set")
        #expect {
            _ = try DatasetFolder(run: run.run)
        } throws: { error in
            error.localizedDescription.contains("holds no validated run")
        }
        for name in ["nobody", "a/b/c", "-x/y", "x/y.", "x/a--b", "x/a..b", "x/" + String(repeating: "a", count: 97)] {
            #expect(throws: HubUploadError.badRepository(name)) { try HubUploader.checkRepository(name) }
        }
        try HubUploader.checkRepository("cje-prep/arena_10k.v2")
        var request = PublishRequest(run: run.run.root, folder: out)
        request.repo = "cje/data"
        request.environment = [:]
        await #expect(throws: HubUploadError.missingToken) { try await RunSession.publish(request) { _ in } }
        #expect(!FileManager.default.fileExists(atPath: out.path))
    }
}
