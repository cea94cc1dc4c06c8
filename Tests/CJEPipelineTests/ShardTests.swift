import CJEInference
import CJEPipeline
import CJETestSupport
import Foundation
import Testing
import Yams

/// A run split into shards and merged, on the fake engine: the merge gives the unsplit run's
/// files byte for byte, and every way of getting it wrong is refused with the reason.
@Suite("Shards and merge")
struct ShardTests {
    /// Runs shards `indices` of `count` into `run`'s directory, one after another.
    static func runShards(_ run: FakeRun, count: Int, _ indices: [Int]? = nil) async throws {
        for index in indices ?? Array(0..<count) {
            let shard = try Shard(index: index, count: count)
            _ = try await run.pipeline { $0.layout = .shard(shard) }.execute()
        }
    }

    static func merge(_ run: FakeRun) async throws -> [StageReport] { try await run.pipeline.merge() }

    @Test("3 shards then merge give every output file of the unsplit run, byte for byte; merging again changes nothing")
    func mergeEqualsUnsplit() async throws {
        let reference = try await PipelineTests.reference()
        let run = try FakeRun("split")
        try await Self.runShards(run, count: 3)
        for index in 0..<3 {
            let shard = RunDirectory(root: run.dir).shard(try Shard(index: index, count: 3))
            let prompts = try JSONLines.decode(PromptRecord.self, from: shard.prompts)
            #expect(prompts.count == 2, "6 prompts dealt over 3 shards")
            #expect(
                FileManager.default.fileExists(atPath: shard.oracleLabels(.calibration).path),
                "a shard labels its own rows")
        }
        let before = run.engine.counts
        let reports = try await Self.merge(run)
        #expect(
            run.engine.counts.generated == before.generated + 10, "the merge generates nothing but validate's audit")
        #expect(run.engine.counts.continuations == before.continuations, "the merge judges and labels nothing")
        #expect(reports.map(\.stage) == ["generate", "logprobs", "judge", "oracle_calibration", "oracle_validation"])
        #expect(reports.allSatisfy { $0.doneNow == 0 && $0.failed == 0 })
        #expect(try run.outputs() == reference.outputs)
        let manifest = try run.manifest()
        #expect(manifest.shards?.map(\.shard.index) == [0, 1, 2] && manifest.n == 6)
        #expect(manifest.shards?.allSatisfy { $0.stages["generate"]?.succeeded == 6 } == true)

        try await _ = Self.merge(run)
        #expect(try run.outputs() == reference.outputs)
        #expect(run.engine.counts.generated == before.generated + 20)
    }

    @Test(
        "every label design, with probes: 3 shards label their own rows and the merge equals the unsplit run byte for byte, working nothing"
    )
    func designsInShards() async throws {
        for (name, yaml) in [
            (
                "original",
                FakeRun.yaml.replacingOccurrences(
                    of: "oracle: {fraction: 0.5}", with: "oracle: {fraction: 0.5, probes: 0.33}")
            ),
            ("paired", LabelDesignTests.pairedYAML), ("stratified", LabelDesignTests.stratifiedYAML),
        ] {
            let whole = try FakeRun("design-\(name)", yaml: yaml)
            try await whole.execute()
            let run = try FakeRun("design-split-\(name)", yaml: yaml)
            try await Self.runShards(run, count: 3)
            let before = run.engine.counts
            let reports = try await Self.merge(run)
            #expect(run.engine.counts.continuations == before.continuations, "\(name): the merge labels nothing")
            #expect(reports.map(\.stage).suffix(3) == ["oracle_calibration", "oracle_validation", "oracle_probes"])
            #expect(reports.allSatisfy { $0.doneNow == 0 }, "\(name)")
            #expect(try run.outputs() == whole.outputs(), "\(name)")
        }
    }

    @Test("a shard stopped mid-way and run again, then the merge: the same files")
    func interruptedShard() async throws {
        let reference = try await PipelineTests.reference()
        var run = try FakeRun("split-crash")
        try await Self.runShards(run, count: 3, [0, 2])
        // Shard 1 fails mid-generate (an engine fault on every item), leaving a failed outcome.
        run.config.maxFailureRate = 0
        let faulty = FakeEngine()
        faulty.inject("You are an unhelpful assistant.", times: 1)
        let engine = run.engine
        run.engine = faulty
        await #expect(throws: PipelineError.self) { try await Self.runShards(run, count: 3, [1]) }
        run.engine = engine
        await #expect {
            _ = try await Self.merge(run)
        } throws: { error in
            error.localizedDescription.contains("shard 1/3 failed: generate: 1 of 6 items failed")
        }
        run.config.maxFailureRate = 0.05
        try await Self.runShards(run, count: 3, [1])
        try await _ = Self.merge(run)
        #expect(try run.outputs() == reference.outputs)
    }

    @Test("a shard that runs again after a merge is merged again, never mixed in")
    func shardAfterMerge() async throws {
        var run = try FakeRun("split-again")
        run.config.n = 3
        try await Self.runShards(run, count: 3)
        try await _ = Self.merge(run)
        run.config.n = 6
        try await Self.runShards(run, count: 3, [0])
        await #expect {
            _ = try await Self.merge(run)
        } throws: { error in
            error.localizedDescription.contains(
                "the shards ran with different N (n = 3: shards 1/3, 2/3; n = 6: shard 0/3)")
        }
        try await Self.runShards(run, count: 3, [1, 2])
        try await _ = Self.merge(run)
        #expect(try run.outputs() == (try await PipelineTests.reference().outputs))
    }

    @Test("a merge names every shard it cannot take, and writes nothing")
    func mergeRefusals() async throws {
        let run = try FakeRun("split-refused")
        try await Self.runShards(run, count: 3, [0])
        var other = run
        other.config.seed = 99
        try await Self.runShards(other, count: 3, [1])
        await #expect {
            _ = try await Self.merge(run)
        } throws: { error in
            let text = error.localizedDescription
            return text.contains("shard 1/3 was made with other settings (config 'seed' changed)")
                && text.contains("shard 2/3 has not started")
        }
        #expect(!FileManager.default.fileExists(atPath: run.run.manifest.path))
        #expect(!FileManager.default.fileExists(atPath: run.run.journal("generate").path))

        let empty = try FakeRun("split-none")
        await #expect {
            _ = try await Self.merge(empty)
        } throws: { error in error.localizedDescription.contains("it holds no shards") }
    }

    @Test("the layout is kept: M cannot change, a plain run does not go into a split one, nor a shard into a plain one")
    func layouts() async throws {
        let run = try FakeRun("split-layout")
        try await Self.runShards(run, count: 3, [0])
        #expect {
            try Pipeline.checkLayout(.shard(try Shard(index: 0, count: 2)), of: run.run)
        } throws: { error in
            error.localizedDescription.contains("its run is split into 3 shards, not 2")
        }
        // Through the front door, which checks the layout before anything is written.
        for shard in [nil, try Shard(index: 0, count: 2)] {
            await #expect {
                _ = try await RunSession.open(
                    RunRequest(directory: run.run.root, config: run.config, shard: shard), models: FakeModels.loader(),
                    signals: false, say: { _ in })
            } throws: { error in
                error.localizedDescription.contains(
                    shard == nil ? "it holds a run split into 3 shards" : "its run is split into 3 shards, not 2")
            }
        }
        #expect(!FileManager.default.fileExists(atPath: run.run.shard(try Shard(index: 0, count: 2)).root.path))

        let plain = try FakeRun("plain-layout")
        try await plain.execute(through: .prompts)
        await #expect {
            _ = try await RunSession.open(
                RunRequest(directory: plain.run.root, config: plain.config, shard: try Shard(index: 1, count: 3)),
                models: FakeModels.loader(), signals: false, say: { _ in })
        } throws: { error in
            error.localizedDescription.contains("it holds an unsharded run")
        }
        #expect(plain.run.shards.isEmpty)
    }

    @Test(
        "--shard K/M is checked",
        arguments: [
            ("3/3", "shard 3 does not exist in a run of 3 shards (0 to 2)"),
            ("-1/2", "shard -1 does not exist in a run of 2 shards (0 to 1)"),
            ("0/0", "the shard count must be at least 1 (got 0)"), ("1", "'1' is not K/M"), ("a/b", "'a/b' is not K/M"),
        ])
    func badShards(text: String, message: String) {
        #expect {
            try Shard.parse(text)
        } throws: { error in
            error.localizedDescription.hasPrefix("bad shard: " + message)
        }
    }

    @Test("the scheduler's shard: Slurm arrays (count, or min and max) and Kubernetes Indexed Jobs")
    func environment() throws {
        let slurm = try Shard.fromEnvironment(["SLURM_ARRAY_TASK_ID": "2", "SLURM_ARRAY_TASK_COUNT": "3"], count: nil)
        #expect(
            slurm?.shard == (try Shard(index: 2, count: 3)) && slurm?.source.hasPrefix("SLURM_ARRAY_TASK_ID") == true)
        let ranged = try Shard.fromEnvironment(
            ["SLURM_ARRAY_TASK_ID": "5", "SLURM_ARRAY_TASK_MIN": "4", "SLURM_ARRAY_TASK_MAX": "7"], count: nil)
        #expect(ranged?.shard == (try Shard(index: 1, count: 4)))
        let pod = try Shard.fromEnvironment(["JOB_COMPLETION_INDEX": "1", "CJE_SHARDS": "3"], count: nil)
        #expect(pod?.shard == (try Shard(index: 1, count: 3)))
        #expect(
            try Shard.fromEnvironment(["JOB_COMPLETION_INDEX": "1"], count: 2)?.shard == (try Shard(index: 1, count: 2))
        )
        #expect(try Shard.fromEnvironment(["HOME": "/root"], count: nil) == nil)
        #expect {
            try Shard.fromEnvironment(["JOB_COMPLETION_INDEX": "1"], count: nil)
        } throws: { error in error.localizedDescription.contains("pass --shards M or set CJE_SHARDS") }
        #expect {
            try Shard.fromEnvironment(
                ["SLURM_ARRAY_TASK_ID": "5", "SLURM_ARRAY_TASK_MIN": "1", "SLURM_ARRAY_TASK_COUNT": "3"], count: nil)
        } throws: { error in error.localizedDescription.contains("submit the array as a contiguous range") }
    }

    @Test(
        "the Kubernetes manifests: an Indexed Job whose CJE_SHARDS is its completions, and a merge on the same volume")
    func kubernetesManifests() throws {
        let deploy = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("deploy/kubernetes")
        func load(_ name: String) throws -> [String: Any] {
            try Yams.load(yaml: String(contentsOf: deploy.appendingPathComponent(name), encoding: .utf8))
                as! [String: Any]
        }
        let shards = try load("cje-prep-shards.yaml")
        let spec = try #require(shards["spec"] as? [String: Any])
        #expect(spec["completionMode"] as? String == "Indexed")
        let completions = try #require(spec["completions"] as? Int)
        #expect(spec["parallelism"] as? Int == completions)
        let pod = try #require((spec["template"] as? [String: Any])?["spec"] as? [String: Any])
        let container = try #require((pod["containers"] as? [[String: Any]])?.first)
        let env = try #require(container["env"] as? [[String: Any]])
        #expect(env.contains { $0["name"] as? String == "CJE_SHARDS" && $0["value"] as? String == "\(completions)" })
        let command = try #require(container["command"] as? [String])
        #expect(command.prefix(2) == ["cje-prep", "run"] && !command.contains("--shard"))
        let dir = command[command.firstIndex(of: "--dir")! + 1]

        let merge = try load("cje-prep-merge.yaml")
        let mergePod = try #require(
            ((merge["spec"] as? [String: Any])?["template"] as? [String: Any])?["spec"] as? [String: Any])
        let mergeCommand = try #require(
            ((mergePod["containers"] as? [[String: Any]])?.first)?["command"] as? [String])
        #expect(mergeCommand.prefix(2) == ["cje-prep", "merge"])
        #expect(mergeCommand[mergeCommand.firstIndex(of: "--dir")! + 1] == dir)
        let claims = { (pod: [String: Any]) in
            (pod["volumes"] as? [[String: Any]] ?? []).compactMap {
                ($0["persistentVolumeClaim"] as? [String: Any])?["claimName"] as? String
            }
        }
        #expect(claims(pod) == claims(mergePod) && claims(pod).contains("cje-prep-runs"))
    }
}
