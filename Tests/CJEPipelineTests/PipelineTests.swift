import CJEInference
import CJEPipeline
import CJETestSupport
import Foundation
import Testing

/// The whole pipeline on the fake engine: every stage's outputs, resume after a crash,
/// extension, refusal of changed settings, retries and the failure threshold.
@Suite("Pipeline on the fake engine")
struct PipelineTests {
    /// An uninterrupted run, made once and compared against.
    static func reference() async throws -> Reference { try await Reference.made.value }

    struct Reference: Sendable {
        var run: FakeRun
        var outputs: [String: Data]

        static let made = Task {
            let run = try FakeRun("reference")
            try await run.execute()
            return Reference(run: run, outputs: try run.outputs())
        }
    }

    @Test("the plan is the stages in order")
    func plan() {
        #expect(Pipeline.plan.map { $0.id } == RunStage.allCases)
    }

    @Test("a run writes every output; clone weights are exactly 1 and sampled equals scored")
    func outputs() async throws {
        let reference = try await Self.reference()
        let run = reference.run
        let files = reference.outputs.keys.sorted()
        #expect(
            files == [
                "cje/analyze.py", "cje/cje_dataset.jsonl", "cje/frame/p0.jsonl", "cje/frame/pi_bad.jsonl",
                "cje/frame/pi_clone.jsonl", "cje/label_design.json", "cje/responses/p0_responses.jsonl",
                "cje/responses/pi_bad_responses.jsonl",
                "cje/responses/pi_clone_responses.jsonl", "data/all_responses.jsonl",
                "data/arena_prompts_10k.jsonl", "data/dataset_info.json", "data/logprobs.jsonl",
                "data/oracle_labels_calibration.jsonl", "data/oracle_labels_validation.jsonl",
                "phase2/labeling/oracle_labels_calibration_detailed.jsonl",
                "phase2/labeling/oracle_labels_validation_detailed.jsonl",
                "phase2/labeling/oracle_population_calibration.jsonl",
                "phase2/labeling/oracle_population_validation.jsonl", "phase2/p0_scored_deterministic.jsonl",
                "phase2/p0_scored_uncertainty.jsonl", "phase2/targets_scored_deterministic.jsonl",
                "phase2/targets_scored_uncertainty.jsonl",
            ])
        let responses = try run.decode(ResponsesRecord.self, run.run.responses)
        #expect(responses.count == 6)
        #expect(
            responses.allSatisfy { $0.responses.count == 3 && $0.responses.values.allSatisfy { $0.response != nil } })
        let logprobs = try run.decode(LogprobsRecord.self, run.run.logprobs)
        for record in logprobs {
            let p0 = try #require(record.logprobs["p0"] ?? nil)
            #expect(record.logprobs["pi_clone"] == .some(p0) && record.p0SampledMinusScored == 0)
            #expect(try #require(record.logprobs["pi_bad"] ?? nil) != p0)
        }
        let manifest = try run.manifest()
        #expect(
            manifest.stages.keys.sorted() == [
                "generate", "judge", "logprobs", "oracle_calibration", "oracle_validation",
            ])
        #expect(manifest.stages["generate"]?.succeeded == 18 && manifest.stages["judge"]?.total == 18)
        #expect(manifest.stages["oracle_calibration"]?.total == 3 && manifest.stages["oracle_validation"]?.total == 6)
        let info = try JSONSerialization.jsonObject(with: reference.outputs["data/dataset_info.json"]!)
        #expect((info as? [String: Any])?["passed"] as? Bool == true)
        #expect(
            run.lines.all.contains {
                $0.hasPrefix(
                    "validate: PASSED on 6 prompts; determinism audit 18/18 re-scored, 10/10 regenerated bit-identical")
            })
    }

    @Test("running again computes nothing and changes nothing")
    func idempotent() async throws {
        let reference = try await Self.reference()
        let run = try FakeRun("again")
        try await run.execute()
        let first = try run.outputs()
        let before = run.engine.counts
        let reports = try await run.execute()
        #expect(reports.allSatisfy { $0.doneNow == 0 } && reports.count == 5)
        #expect(run.engine.counts.generated == before.generated + 10, "only the validate audit regenerates")
        #expect(run.engine.counts.continuations == before.continuations)
        #expect(run.engine.counts.scored == before.scored + 18, "only the validate audit scores again")
        #expect(try run.outputs() == first)
        #expect(first == reference.outputs)
    }

    @Test("a larger N extends a run: the result equals a run made with that N from the start")
    func extend() async throws {
        let reference = try await Self.reference()
        var run = try FakeRun("extend")
        run.config.n = 3
        let small = try await run.execute()
        #expect(small[0].doneNow == 9)
        run.config.n = 6
        let reports = try await run.execute()
        #expect(reports[0].doneNow == 9 && reports[0].total == 18)
        #expect(try run.outputs() == reference.outputs)
        #expect(try run.manifest().n == 6)
    }

    @Test(
        "a value is computed once: p0 from sampling, a policy identical to another from it; both equal teacher forcing")
    func sharedValues() async throws {
        let reference = try await Self.reference()
        let run = reference.run
        // Only pi_bad is teacher-forced: p0 takes its sampled log prob, pi_clone takes p0's.
        #expect(run.journalLines("logprobs").count == 6)
        #expect(run.journalLines("logprobs").allSatisfy { $0.contains("\"pi_bad\"") })
        #expect(try run.manifest().stages["logprobs"]?.shared == 12)
        #expect(
            run.lines.all.contains { $0.hasPrefix("logprobs: 18/18 done, 0 failed, 12 taken from identical values, ") })
        let responses = try run.decode(ResponsesRecord.self, run.run.responses)
        let logprobs = try run.decode(LogprobsRecord.self, run.run.logprobs)
        for (response, record) in zip(responses, logprobs) {
            for policy in run.config.policies {
                let request = try LogprobsStage.request(
                    record: response, policy: policy, logging: run.config.logging, engine: run.engine)
                let value = try await run.engine.scoreBatch([request])[0].get().scored[0].total
                #expect(record.logprobs[policy.name] == .some(value))
            }
        }

        // A response ended by another end-of-generation token than the one teacher forcing
        // appends is scored, not taken from sampling; a policy at another temperature is its own.
        var other = try FakeRun("shared-other")
        other.config.policies[1].temperature = 0.7
        try await other.execute(through: .generate)
        var journal = other.journalLines("generate").map(String.init)
        let stopped = try #require(journal.firstIndex { $0.contains("\"p0\"") && $0.contains("\"stop_token_id\":4") })
        journal[stopped] = journal[stopped].replacingOccurrences(of: "\"stop_token_id\":4", with: "\"stop_token_id\":9")
        try Data((journal.joined(separator: "\n") + "\n").utf8).write(to: other.run.journal("generate"))
        try await other.execute(through: .logprobs)
        let lines = other.journalLines("logprobs")
        #expect(lines.count == 13 && lines.filter { $0.contains("\"p0\"") }.count == 1)
        #expect(try other.manifest().stages["logprobs"]?.shared == 5)
    }

    @Test(
        "a crash mid-stage loses only what was not journaled; the resumed data set is byte-identical",
        arguments: ["generate", "logprobs", "judge", "oracle_validation"])
    func crashAndResume(stage: String) async throws {
        let reference = try await Self.reference()
        let run = try FakeRun("crash-\(stage)")
        try await run.execute()
        // What a crash in `stage` leaves: its journal cut mid-line after 4 items, no later
        // stage's journal, no outputs.
        let journal = run.run.journal(stage)
        let owed = run.journalLines(stage).count
        let kept = run.journalLines(stage).prefix(4).joined(separator: "\n") + "\n"
        try Data((kept + "{\"attempt\":1,\"pol").utf8).write(to: journal)
        let order = ["generate", "logprobs", "judge", "oracle_calibration", "oracle_validation"]
        for later in order.drop(while: { $0 != stage }).dropFirst() {
            try FileManager.default.removeItem(at: run.run.journal(later))
        }
        for folder in ["data", "phase2", "cje"] {
            try FileManager.default.removeItem(at: run.dir.appendingPathComponent(folder))
        }
        let reports = try await run.execute()
        #expect(reports.first { $0.stage == stage }.map { $0.doneNow == owed - 4 } == true)
        #expect(try run.outputs() == reference.outputs)
        #expect(run.journalLines(stage).count == owed, "no item journaled twice")
    }

    @Test("resuming with other settings is refused, naming what changed, and nothing is touched")
    func fingerprint() async throws {
        var run = try FakeRun("fingerprint")
        try await run.execute(through: .logprobs)
        let before = try run.outputs()
        run.config.seed = 4
        await #expect {
            try await run.execute()
        } throws: { error in
            guard case PipelineError.fingerprintMismatch(_, let changes) = error else { return false }
            return changes == ["config 'seed' changed"]
        }
        run.config.seed = 3
        run.engine = FakeEngine(sha256: String(repeating: "a", count: 64))
        await #expect {
            try await run.execute()
        } throws: { error in
            guard case PipelineError.fingerprintMismatch(_, let changes) = error else { return false }
            return changes == ["model 'default': sha256 ffffffffffff -> aaaaaaaaaaaa"]
        }
        #expect(try run.outputs() == before)
    }

    @Test("the engine's shape, the failure policy and n change no fingerprint")
    func fingerprintIgnores() throws {
        let base = try PipelineConfig.parse(FakeRun.yaml, path: "a.yaml")
        var other = base
        other.n = 100
        other.engine.maxSequences = 32
        other.engine.threads = 1
        other.maxFailureRate = 0.5
        other.maxAttempts = 9
        #expect(try RunFingerprint.configText(of: other) == RunFingerprint.configText(of: base))
        other.oracle.maxTokens = 12
        #expect(try RunFingerprint.configText(of: other) != RunFingerprint.configText(of: base))
    }

    @Test("failed items are null with their error, retried on later runs up to max_attempts")
    func retries() async throws {
        var run = try FakeRun("retries")
        try run.usePrompts(["What is 2+2?", "Say FAIL-ME please.", "Name a colour."])
        run.config.maxFailureRate = 1
        run.engine.inject("FAIL-ME")
        try await run.execute(through: .generate)
        var responses = try run.decode(ResponsesRecord.self, run.run.responses)
        let failing = try #require(responses.first { $0.prompt.contains("FAIL-ME") })
        #expect(failing.responses.values.allSatisfy { $0.response == nil && $0.error == "injected fault 'FAIL-ME'" })
        #expect(try run.manifest().stages["generate"]?.failed == 3)
        try await run.execute(through: .generate)
        try await run.execute(through: .generate)
        #expect(run.engine.counts.generated == 9 + 3 + 3)
        let attempts = run.journalLines("generate").filter { $0.contains("FAIL-ME") }.map {
            $0.contains("\"attempt\":3")
        }
        #expect(attempts.count == 9 && attempts.filter { $0 }.count == 3)
        // Out of attempts: a fourth run leaves them failed and asks the engine nothing.
        run.engine = FakeEngine()
        try await run.execute(through: .generate)
        #expect(run.engine.counts.generated == 0)

        // A fault that clears: the next run fills the item in, as a clean run would have.
        var flaky = try FakeRun("flaky")
        try flaky.usePrompts(["What is 2+2?", "Say FAIL-ME please.", "Name a colour."])
        flaky.config.maxFailureRate = 1
        flaky.engine.inject("FAIL-ME", times: 1)
        try await flaky.execute(through: .generate)
        try await flaky.execute(through: .generate)
        var clean = try FakeRun("clean")
        try clean.usePrompts(["What is 2+2?", "Say FAIL-ME please.", "Name a colour."])
        try await clean.execute(through: .generate)
        responses = try flaky.decode(ResponsesRecord.self, flaky.run.responses)
        #expect(responses == (try clean.decode(ResponsesRecord.self, clean.run.responses)))
    }

    @Test("a stage over max_failure_rate fails after writing its outputs; later stages do not run")
    func failureThreshold() async throws {
        var run = try FakeRun("threshold")
        try run.usePrompts(["What is 2+2?", "Say FAIL-ME please.", "Name a colour."])
        run.engine.inject("FAIL-ME")
        await #expect {
            try await run.execute()
        } throws: { error in
            error.localizedDescription.hasPrefix("generate: 3 of 9 items failed (more than max_failure_rate 5%)")
        }
        #expect(FileManager.default.fileExists(atPath: run.run.responses.path))
        #expect(!FileManager.default.fileExists(atPath: run.run.logprobs.path))
        #expect(try run.manifest().stages["generate"]?.failed == 3)
    }

    @Test("logprobs: a P0 response that failed leaves its prompt's log probs null with the reason")
    func missingP0() async throws {
        var run = try FakeRun("no-p0")
        try run.usePrompts(["What is 2+2?", "Say FAIL-ME please.", "Name a colour."])
        run.config.maxFailureRate = 1
        run.engine.inject("FAIL-ME", times: 1)  // only p0's generation of that prompt fails
        try await run.execute()
        let logprobs = try run.decode(LogprobsRecord.self, run.run.logprobs)
        let failed = try #require(logprobs.first { $0.p0Response == nil })
        #expect(failed.logprobs.values.allSatisfy { $0 == nil })
        #expect(failed.errors["pi_bad"] == "no p0 response to score: injected fault 'FAIL-ME'")
        #expect(try run.manifest().stages["logprobs"]?.failed == 3)
        let dataset = try String(contentsOf: run.run.cjeDataset, encoding: .utf8).split(separator: "\n")
        #expect(dataset.count == 2, "the prompt without a P0 response is left out of the export")
    }

    @Test("the greedy rule: an unparseable judge answer is null with the answer, the distribution stays")
    func greedyRule() async throws {
        var run = try FakeRun("greedy", yaml: FakeRun.yaml + "\njudge: {deterministic: greedy}")
        try run.usePrompts(["What is 2+2?", "UNPARSEABLE question", "Name a colour."])
        run.config.maxFailureRate = 1
        try await run.execute(through: .judge)
        let deterministic = try run.decode(ScoredRecord.self, run.run.scored(.targets, .deterministic))
        let uncertainty = try run.decode(ScoredRecord.self, run.run.scored(.targets, .uncertainty))
        for (d, u) in zip(deterministic, uncertainty) {
            #expect(d.judgeMethod.rawValue == "greedy" && u.judgeMethod.rawValue == "exact_distribution")
            #expect(u.judgeScore != nil && u.judgeScoreVariance != nil)
            if d.prompt.contains("UNPARSEABLE") {
                #expect(d.judgeScore == nil && d.error == "unparseable judge answer: \" 3.5 out\"")
            } else {
                #expect(d.judgeScore != nil && d.error == nil)
            }
        }
        #expect(try run.manifest().stages["judge"]?.failed == 3)
    }

    @Test("oracle: ceil(fraction x count) labels per population, separate journals, the rest unlabelled")
    func oracle() async throws {
        let run = try await Self.reference().run
        let calibration = try run.decode(OracleRecord.self, run.run.oraclePopulation(.calibration))
        let validation = try run.decode(OracleRecord.self, run.run.oraclePopulation(.validation))
        #expect(calibration.count == 6 && calibration.filter(\.selected).count == 3)
        for policy in ["pi_clone", "pi_bad"] {
            #expect(validation.filter { $0.policy == policy }.count == 6)
            #expect(validation.filter { $0.policy == policy && $0.selected }.count == 3)
        }
        for record in calibration + validation {
            #expect(record.selected == (record.yTrue != nil) && record.selected == (record.oracleFull != nil))
        }
        #expect(run.journalLines("oracle_calibration").count == 3 && run.journalLines("oracle_validation").count == 6)
        // data/ and the detailed copy hold the labelled slice only, in population order.
        for (task, population) in [(OracleTask.Kind.calibration, calibration), (.validation, validation)] {
            let labelled = try run.decode(OracleRecord.self, run.run.oracleLabels(task))
            #expect(labelled == population.filter(\.selected) && labelled.allSatisfy { $0.yTrue != nil })
            #expect(try run.decode(OracleRecord.self, run.run.oracleDetailed(task)) == labelled)
        }
    }

    @Test("progress and stage lines reach the console")
    func consoleLines() async throws {
        let reference = try await Self.reference()
        let lines = reference.run.lines.all
        #expect(lines.contains("prompts: 6 written to \(reference.run.run.prompts.path)"))
        for line in [
            "generate: 18/18 done, 0 failed", "logprobs: 18/18 done, 0 failed", "judge: 18/18 done, 0 failed",
            "oracle_calibration: 3/3 done, 0 failed", "oracle_validation: 6/6 done, 0 failed",
        ] {
            #expect(lines.contains { $0.hasPrefix(line + ", ") && $0.hasSuffix(" s") }, "\(line)")
        }
        #expect(lines.contains { $0.hasPrefix("generate: 18/18 done, 0 failed, ") && $0.contains("items/s, ETA 0 s") })
        #expect(lines.contains { $0.hasPrefix("export: 24 rows in ") })
    }
}
