import CJEInference
import CJELlama
import CJEPipeline
import CJETestSupport
import Foundation
import Testing

/// The pipeline end to end on the real model, for what depends on the engine's numbers: exact
/// clone weights, sampled equal to scored, extension and resume after SIGKILL giving the same
/// bytes, the judge, the oracle and the determinism audit. The runner's logic (due items,
/// retries, torn journals, fingerprints) is tested on the fake engine in CJEPipelineTests.
@Suite("Pipeline runs", .serialized, .needsRealModel)
struct PipelineRunTests {
    static let modelPath = RealModel.path!

    static let yaml = """
        n: 4
        seed: 11
        policies:
          - {name: p0, system_prompt: "You are a helpful assistant.", temperature: 0.5, max_tokens: 40}
          - {name: pi_clone, system_prompt: "You are a helpful assistant.", temperature: 0.5, max_tokens: 40}
          - {name: pi_bad, system_prompt: "You are an unhelpful assistant.", temperature: 0.5, max_tokens: 40}
        engine: {threads: 2, max_sequences: 4}
        """

    static let config = try! PipelineConfig.parse(yaml, path: "test.yaml")
    static let engine: LlamaEngine = try! LlamaEngine(
        model: LlamaModel(path: modelPath), options: LlamaEngineOptions(threads: 2, maxSequences: 4))

    static func pipeline(_ dir: URL, n: Int = 4, seed: UInt64 = 11) -> Pipeline {
        var config = Self.config
        config.n = n
        config.seed = seed
        let fingerprint = try! RunFingerprint(
            config: config, models: ["default": engine.model.info.sha256],
            engine: LlamaEngine.buildIdentity)
        return Pipeline(
            config: config, run: RunDirectory(root: dir), fingerprint: fingerprint, engine: { _ in engine },
            say: { _ in })
    }

    static func tempDir(_ name: String) -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("cje-run-\(name)-\(UUID().uuidString)")
        try! FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// The data files of a finished run (the manifest holds timings, so it is left out).
    static func outputs(_ dir: URL) throws -> [String: Data] {
        let run = RunDirectory(root: dir)
        return [
            "prompts": try Data(contentsOf: run.prompts), "responses": try Data(contentsOf: run.responses),
            "logprobs": try Data(contentsOf: run.logprobs),
        ]
    }

    /// An uninterrupted run, made once and compared against.
    static let reference: (dir: URL, outputs: [String: Data]) = {
        let dir = tempDir("reference")
        let semaphore = DispatchSemaphore(value: 0)
        Task {
            _ = try! await pipeline(dir).execute(through: .logprobs)
            semaphore.signal()
        }
        semaphore.wait()
        return (dir, try! outputs(dir))
    }()

    @Test("a run writes every output; values taken from sampling or from an identical policy equal teacher forcing")
    func outputsAreRight() async throws {
        let run = RunDirectory(root: Self.reference.dir)
        let records = try JSONLines.decode(LogprobsRecord.self, from: run.logprobs)
        #expect(records.count == 4)
        // p0's values come from sampling and pi_clone's from p0's, not from the engine: here every
        // one is teacher-forced again from scratch and must agree to the bit.
        let shared = try Manifest.read(from: run.manifest).stages["logprobs"]?.shared
        #expect(shared == 8)
        let byId = Dictionary(
            uniqueKeysWithValues: try JSONLines.decode(ResponsesRecord.self, from: run.responses).map {
                ($0.promptId, $0)
            })
        for record in records {
            for policy in Self.config.policies {
                let request = try LogprobsStage.request(
                    record: byId[record.promptId]!, policy: policy, logging: Self.config.logging, engine: Self.engine)
                let recomputed = try await Self.engine.scoreBatch([request])[0].get().scored[0].total
                #expect(record.logprobs[policy.name] == .some(recomputed), "\(record.promptId)/\(policy.name)")
            }
        }
        for record in records {
            let p0 = try #require(record.logprobs["p0"] ?? nil)
            let clone = try #require(record.logprobs["pi_clone"] ?? nil)
            let bad = try #require(record.logprobs["pi_bad"] ?? nil)
            #expect(p0 == clone)
            #expect(exp(clone - p0) == 1.0)
            #expect(p0 < 0 && bad < 0 && p0.isFinite && bad.isFinite)
            #expect(record.p0SampledMinusScored == 0)
            #expect(record.errors.isEmpty)
        }
        let responses = try JSONLines.decode(
            ResponsesRecord.self, from: RunDirectory(root: Self.reference.dir).responses)
        #expect(
            responses.allSatisfy { $0.responses.count == 3 && $0.responses.values.allSatisfy { $0.response != nil } })
        // The manifest keeps how the engine spent the generation (what `estimate` projects
        // from): every token drawn either with the engine full or at a call's end.
        let manifest = try Manifest.read(from: run.manifest)
        let engine = try #require(manifest.stages["generate"]?.workEngine)
        let drawn = responses.flatMap { $0.responses.values }.reduce(0) {
            $0 + ($1.nTokens ?? 0) + ($1.finishReason == .stop ? 1 : 0)
        }
        #expect(engine.generationCalls >= 1 && engine.fullTokens + engine.drainTokens == drawn)
        #expect(engine.decode > 0 && engine.decode <= engine.work)
        #expect(manifest.parts?["prompts"] != nil)
    }

    @Test("a larger N extends a run: the result equals a run made with that N from the start")
    func extend() async throws {
        let dir = Self.tempDir("extend")
        _ = try await Self.pipeline(dir, n: 2).execute(through: .logprobs)
        let reports = try await Self.pipeline(dir, n: 4).execute(through: .logprobs)
        #expect(reports[0].doneNow == 2 * 3)
        #expect(try Self.outputs(dir) == Self.reference.outputs)
    }

    @Test("SIGKILL mid-generate and mid-logprobs, then the same command: the data set is byte-identical")
    func killAndResume() throws {
        let dir = Self.tempDir("kill")
        let config = dir.appendingPathComponent("config.yaml")
        try Data(Self.yaml.utf8).write(to: config)
        func start() throws -> Process {
            let process = Process()
            process.executableURL = executable
            process.arguments = [
                "run", "--dir", dir.appendingPathComponent("run").path, "--config", config.path, "--through",
                "logprobs",
            ]
            process.standardOutput = FileHandle.nullDevice
            try process.run()
            return process
        }
        let runDir = RunDirectory(root: dir.appendingPathComponent("run"))
        // Kill mid-generate (its journal has begun), then mid-logprobs (generation is done, the
        // scoring's journal has begun): markers rather than delays, which a faster engine outruns.
        for (marker, delay) in [(runDir.journal("generate"), 0.3), (runDir.journal("logprobs"), 0.0)] {
            let process = try start()
            let deadline = Date().addingTimeInterval(300)
            while Date() < deadline, process.isRunning, !FileManager.default.fileExists(atPath: marker.path) {
                usleep(20_000)
            }
            usleep(useconds_t(delay * 1_000_000))
            #expect(process.isRunning, "the run ended before it could be killed")
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        #expect(!FileManager.default.fileExists(atPath: runDir.logprobs.path))
        let last = try start()
        last.waitUntilExit()
        #expect(last.terminationStatus == 0)
        #expect(try Self.outputs(dir.appendingPathComponent("run")) == Self.reference.outputs)

        // One timestamped log per invocation, killed ones included, written as the run went.
        let logs = try FileManager.default.contentsOfDirectory(
            at: runDir.root.appendingPathComponent("logs"), includingPropertiesForKeys: nil
        ).sorted { $0.lastPathComponent < $1.lastPathComponent }
        #expect(logs.count == 3 && logs.allSatisfy { $0.lastPathComponent.hasPrefix("logprobs-") })
        let texts = try logs.map { try String(contentsOf: $0, encoding: .utf8) }
        #expect(texts.allSatisfy { $0.contains(" INFO  prompts: 4 written") && $0.contains(" DEBUG llama.cpp: ") })
        #expect(texts.filter { $0.contains(" INFO  done in ") }.count == 1)
        #expect(texts.contains { $0.contains(" INFO  logprobs: 12/12 done, 0 failed") })
    }

    @Test("the judge stage writes both scored files for P0 and targets; failures are null with an error")
    func judge() async throws {
        let dir = Self.tempDir("judge")
        var config = Self.config
        config.n = 2
        config.maxFailureRate = 1
        let pipeline = Pipeline(
            config: config, run: RunDirectory(root: dir), fingerprint: Self.pipeline(dir, n: 2).fingerprint,
            engine: { _ in Self.engine }, say: { _ in })
        let reports = try await pipeline.execute(through: .judge)
        #expect(reports.map(\.stage) == ["generate", "logprobs", "judge"])
        let run = RunDirectory(root: dir)
        let p0 = try JSONLines.decode(ScoredRecord.self, from: run.scored(.p0, .deterministic))
        let targets = try JSONLines.decode(ScoredRecord.self, from: run.scored(.targets, .uncertainty))
        #expect(p0.count == 2 && targets.count == 4)
        for record in p0 {
            #expect(record.judgeMethod.rawValue == "argmax")
            let score = try #require(record.judgeScore)
            #expect(score >= 0 && score <= 1 && record.error == nil)
            #expect(record.totalLogprob != nil && record.targetLogps?["pi_clone"] == record.totalLogprob)
        }
        for record in targets {
            #expect(record.judgeMethod.rawValue == "exact_distribution")
            let mean = try #require(record.judgeScore)
            let variance = try #require(record.judgeScoreVariance)
            #expect(mean >= 0 && mean <= 1 && variance >= 0 && variance <= 0.25)
            #expect(record.targetLogps == nil)
        }
    }

    @Test("the deterministic rules: argmax is always a score, greedy is the strict parse of the same greedy answer")
    func deterministicRules() async throws {
        let responses = try JSONLines.decode(
            ResponsesRecord.self, from: RunDirectory(root: Self.reference.dir).responses)
        let items = responses.prefix(2).flatMap { record in
            record.responses.values.compactMap(\.response).prefix(2).map {
                RubricItem(prompt: record.prompt, response: $0)
            }
        }
        let argmax = await LocalRubricScorer(rubric: .judge, engine: Self.engine, maxTokens: 8, rule: .argmax)
            .judge(items)
        let greedy = await LocalRubricScorer(rubric: .judge, engine: Self.engine, maxTokens: 8, rule: .greedy)
            .judge(items)
        #expect(argmax.count == 4 && greedy.count == 4)
        for (a, g) in zip(argmax, greedy) {
            #expect(a.rule == .argmax && g.rule == .greedy)
            #expect(a.rawAnswer != nil && a.rawAnswer == g.rawAnswer)
            #expect(a.mean == g.mean && a.variance == g.variance && a.mass == g.mass)
            let score = try #require(a.score)
            #expect((score * 10).rounded() == score * 10 && a.scoreError == nil)
            let parsed = Rubric.parse(g.rawAnswer!)
            #expect(g.score == parsed.map { Double($0) / 10 })
            #expect((g.scoreError == nil) == (parsed != nil))
        }
    }

    @Test("judge and oracle verdicts are bit-identical with and without prefix reuse, alone and in batches")
    func prefixReuse() async throws {
        let responses = try JSONLines.decode(
            ResponsesRecord.self, from: RunDirectory(root: Self.reference.dir).responses)
        let items = responses.flatMap { record in
            record.responses.values.compactMap(\.response).map { RubricItem(prompt: record.prompt, response: $0) }
        }
        #expect(items.count >= 6)
        let model = Self.engine.model
        let plain = try LlamaEngine(
            model: model, options: LlamaEngineOptions(threads: 2, maxSequences: 4, reusePrefixes: false))
        let reusing = try LlamaEngine(
            model: model, options: LlamaEngineOptions(threads: 1, maxSequences: 3, reusePrefixes: true))
        for rubric in [Rubric.judge, .oracle] {
            let scratch = await LocalRubricScorer(rubric: rubric, engine: plain, maxTokens: 8, rule: .greedy)
                .judge(items)
            let scorer = LocalRubricScorer(rubric: rubric, engine: reusing, maxTokens: 8, rule: .greedy)
            let batched = await scorer.judge(items)
            var alone: [JudgeValue] = []
            for item in items.reversed() { alone.insert(contentsOf: await scorer.judge([item]), at: 0) }
            #expect(batched == scratch)
            #expect(alone == scratch)
            #expect(scratch.allSatisfy { $0.mean != nil && $0.rawAnswer != nil })
        }
        // Each rubric's prefix was decoded once; every other item restored it.
        let prefixes = try [Rubric.judge, .oracle].map {
            try LocalRubricScorer(rubric: $0, engine: reusing, maxTokens: 8, rule: .greedy).sharedPrefix().count
        }
        #expect(prefixes.allSatisfy { $0 > 200 })
        #expect(reusing.prefixTokens.computed == prefixes.reduce(0, +))
        #expect(reusing.prefixTokens.reused == (2 * items.count - 1) * prefixes.reduce(0, +))
        #expect(plain.prefixTokens == (0, 0))
    }

    @Test("oracle labels on a seeded 25% with separate state; validation passes with a bit-identical audit")
    func oracle() async throws {
        let dir = Self.tempDir("oracle")
        var config = Self.config
        config.maxFailureRate = 1
        let pipeline = Pipeline(
            config: config, run: RunDirectory(root: dir), fingerprint: Self.pipeline(dir).fingerprint,
            engine: { _ in Self.engine }, say: { _ in })
        // Reuse the reference run's generation and scoring.
        let run = RunDirectory(root: dir)
        try FileManager.default.createDirectory(
            at: run.root.appendingPathComponent("state"), withIntermediateDirectories: true)
        for stage in ["generate", "logprobs"] {
            try FileManager.default.copyItem(
                at: RunDirectory(root: Self.reference.dir).journal(stage), to: run.journal(stage))
        }
        let reports = try await pipeline.execute(through: .validate)
        #expect(reports.suffix(2).map(\.stage) == ["oracle_calibration", "oracle_validation"])
        #expect(reports.suffix(2).map(\.total) == [1, 2])  // ceil(25% of 4) of p0; 1 per target policy
        let calibration = try JSONLines.decode(OracleRecord.self, from: run.oraclePopulation(.calibration))
        let validation = try JSONLines.decode(OracleRecord.self, from: run.oraclePopulation(.validation))
        #expect(calibration.count == 4 && calibration.allSatisfy { $0.policy == "p0" })
        #expect(validation.count == 8 && Set(validation.map(\.policy)) == ["pi_clone", "pi_bad"])
        #expect(calibration.filter(\.selected).count == 1)
        for policy in ["pi_clone", "pi_bad"] {
            #expect(validation.filter { $0.selected && $0.policy == policy }.count == 1)
        }
        for record in calibration + validation {
            if !record.selected { #expect(record.yTrue == nil && record.oracleFull == nil) }
            if let y = record.yTrue { #expect(y >= 0 && y <= 1) }
            if record.selected { #expect((record.yTrue == nil) == (record.error != nil)) }
        }
        #expect(FileManager.default.fileExists(atPath: run.journal("oracle_calibration").path))
        #expect(FileManager.default.fileExists(atPath: run.journal("oracle_validation").path))
        let labelled = try JSONLines.decode(OracleRecord.self, from: run.oracleLabels(.validation))
        #expect(labelled == validation.filter(\.selected) && labelled.count == 2)
        #expect(try JSONLines.decode(OracleRecord.self, from: run.oracleDetailed(.validation)) == labelled)

        // Validation passes: clone weights exactly 1, a 12-pair audit bit-identical.
        let info = try JSONSerialization.jsonObject(with: Data(contentsOf: run.datasetInfo)) as! [String: Any]
        #expect(info["passed"] as? Bool == true, "\(info["failures"] ?? "")")
        #expect(info["determinism_audit_pairs"] as? Int == 12 && info["determinism_audit_mismatches"] as? Int == 0)
        let policies = try #require(info["policies"] as? [String: [String: Any]])
        #expect(policies["pi_clone"]?["effective_sample_size"] as? Double == 4)
        #expect(policies["pi_bad"]?["samples"] as? Int == 4)
    }

    var executable: URL {
        let runner = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        let candidates = [
            runner.appendingPathComponent("cje-prep"), Bundle.main.bundleURL.appendingPathComponent("cje-prep"),
            runner.deletingLastPathComponent().appendingPathComponent("cje-prep"),
        ]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) } ?? candidates[0]
    }
}
