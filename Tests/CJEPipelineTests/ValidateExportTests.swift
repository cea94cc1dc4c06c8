import CJEInference
import CJEPipeline
import CJETestSupport
import Foundation
import Testing

/// The whole-sample stages on a finished fake run: what the export writes and leaves out, what
/// validate computes and what it catches.
@Suite("Export and validate")
struct ValidateExportTests {
    static func reference() async throws -> FakeRun { try await PipelineTests.reference().run }

    /// A row of `cje/cje_dataset.jsonl`. (Read with JSONDecoder: Foundation's JSONSerialization
    /// parser on Linux is off by an ulp or two on some doubles; the file itself is exact.)
    struct LoggedRow: Decodable, Equatable {
        struct Metadata: Decodable, Equatable {
            var judge_score: Double
            var judge_score_variance: Double?
            var judge_method: String
            var oracle_label: Double?
        }
        var prompt_id: String
        var prompt: String
        var response: String
        var base_policy_logprob: Double
        var target_policy_logprobs: [String: Double?]
        var metadata: Metadata
    }

    /// A row of `cje/responses/<policy>_responses.jsonl`.
    struct FreshRow: Decodable, Equatable {
        var prompt_id: String
        var target_policy: String
        var prompt: String
        var response: String
        var judge_score: Double
        var judge_score_variance: Double?
        var oracle_label: Double?
        var draw_idx: Int
    }

    @Test("the export: P0 rows with log probs under every target, fresh draws per policy, oracle labels joined")
    func export() async throws {
        let run = try await Self.reference().run
        let logged = try JSONLines.decode(LoggedRow.self, from: run.cjeDataset)
        let logprobs = try JSONLines.decode(LogprobsRecord.self, from: run.logprobs)
        let uncertainty = try JSONLines.decode(ScoredRecord.self, from: run.scored(.p0, .uncertainty))
        let labels = try JSONLines.decode(OracleRecord.self, from: run.oracleLabels(.calibration))
        #expect(logged.count == 6)
        for (row, (lp, scored)) in zip(logged, zip(logprobs, uncertainty)) {
            #expect(row.prompt_id == lp.promptId && row.response == lp.p0Response && row.prompt == lp.prompt)
            #expect(row.base_policy_logprob == lp.logprobs["p0"] ?? nil)
            #expect(
                row.target_policy_logprobs == ["pi_clone": lp.logprobs["pi_clone"]!, "pi_bad": lp.logprobs["pi_bad"]!])
            #expect(row.metadata.judge_score == scored.judgeScore)
            #expect(row.metadata.judge_score_variance == scored.judgeScoreVariance)
            #expect(row.metadata.judge_method == "exact_distribution")
            #expect(row.metadata.oracle_label == labels.first { $0.promptId == lp.promptId }?.yTrue)
        }
        #expect(logged.filter { $0.metadata.oracle_label != nil }.count == 3)
        // Every policy's own responses, P0's included (CJE's direct mode compares the baseline too).
        for policy in ["p0", "pi_clone", "pi_bad"] {
            let fresh = try JSONLines.decode(FreshRow.self, from: run.freshDraws(policy))
            let scored = try JSONLines.decode(
                ScoredRecord.self, from: run.scored(policy == "p0" ? .p0 : .targets, .uncertainty)
            )
            .filter { $0.policy == policy }
            #expect(fresh.count == 6 && fresh.allSatisfy { $0.target_policy == policy && $0.draw_idx == 0 })
            #expect(fresh.map(\.judge_score) == scored.map { $0.judgeScore! })
            #expect(fresh.filter { $0.oracle_label != nil }.count == 3)
        }
    }

    /// The reference run's data, from its files.
    static func data() async throws -> (
        responses: [ResponsesRecord], logprobs: [LogprobsRecord], judged: JudgedRecords, oracle: OracleLabels
    ) {
        let run = try await reference().run
        var judged = JudgedRecords()
        judged.p0Deterministic = try JSONLines.decode(ScoredRecord.self, from: run.scored(.p0, .deterministic))
        judged.p0Uncertainty = try JSONLines.decode(ScoredRecord.self, from: run.scored(.p0, .uncertainty))
        judged.targetsDeterministic = try JSONLines.decode(
            ScoredRecord.self, from: run.scored(.targets, .deterministic))
        judged.targetsUncertainty = try JSONLines.decode(ScoredRecord.self, from: run.scored(.targets, .uncertainty))
        var oracle = OracleLabels()
        oracle.calibration = try JSONLines.decode(OracleRecord.self, from: run.oraclePopulation(.calibration))
        oracle.validation = try JSONLines.decode(OracleRecord.self, from: run.oraclePopulation(.validation))
        return (
            try JSONLines.decode(ResponsesRecord.self, from: run.responses),
            try JSONLines.decode(LogprobsRecord.self, from: run.logprobs), judged, oracle
        )
    }

    /// Validates `data` on a copy of the reference run's directory with `engine`.
    static func validate(
        _ data: (responses: [ResponsesRecord], logprobs: [LogprobsRecord], judged: JudgedRecords, oracle: OracleLabels),
        engine: FakeEngine = FakeEngine()
    ) async throws -> ValidationReport {
        var run = try FakeRun("validate", engine: engine)
        run.config = try await reference().config
        return try await ValidateStage(context: try run.context()).validate(
            responses: data.responses, logprobs: data.logprobs, judged: data.judged, oracle: data.oracle)
    }

    @Test("the diagnostics: ESS, largest share, quantiles and the self-normalised estimate, by hand")
    func diagnostics() async throws {
        let data = try await Self.data()
        let report = try await Self.validate(data)
        #expect(report.passed && report.auditPairs == 18 && report.auditMismatches == 0)
        let clone = try #require(report.policies["pi_clone"])
        #expect(clone.effectiveSampleSize == 6 && clone.largestWeightShare == 1.0 / 6)
        #expect(clone.weightQuantiles == [1, 1, 1, 1, 1])
        // pi_bad by hand: w = exp(lp_bad - lp_p0), scaled by the largest; SNIPS = sum w s / sum w.
        let logWeights = data.logprobs.map { $0.logprobs["pi_bad"]!! - $0.logprobs["p0"]!! }
        let top = logWeights.max()!
        let w = logWeights.map { exp($0 - top) }
        let total = w.reduce(0, +)
        let scores = data.judged.p0Deterministic.map { $0.judgeScore! }
        let bad = try #require(report.policies["pi_bad"])
        #expect(bad.effectiveSampleSize == total * total / w.reduce(0) { $0 + $1 * $1 })
        #expect(bad.largestWeightShare == w.max()! / total)
        #expect(abs(bad.snipsJudgeMean! - zip(w, scores).reduce(0) { $0 + $1.0 * $1.1 } / total) < 1e-15)
        let own = data.judged.targetsDeterministic.filter { $0.policy == "pi_bad" }.map { $0.judgeScore! }
        #expect(bad.ownJudgeMean == own.reduce(0, +) / Double(own.count))
        let labels = data.oracle.validation.filter { $0.policy == "pi_bad" }.compactMap(\.yTrue)
        #expect(bad.oracleLabels == 3 && bad.oracleMean == labels.reduce(0, +) / 3)
        #expect(report.nullRates.values.allSatisfy { $0 == 0 })
    }

    @Test("a clone whose log prob is no longer P0's own fails; so does a score outside [0, 1]")
    func hardFailures() async throws {
        var data = try await Self.data()
        data.logprobs[0].logprobs["pi_clone"] = .some(data.logprobs[0].logprobs["pi_clone"]!! - 0.5)
        data.judged.targetsDeterministic[1].judgeScore = 1.5
        let report = try await Self.validate(data)
        #expect(!report.passed)
        #expect(report.failures.contains { $0.hasPrefix("\(data.logprobs[0].promptId): pi_clone weight is ") })
        #expect(report.failures.contains { $0.hasSuffix("judge score 1.5 outside [0, 1]") })
        #expect(report.auditMismatches == 1, "the audit re-scores the changed pair too")
    }

    @Test("an engine that is not batch-invariant fails the determinism audit")
    func audit() async throws {
        let report = try await Self.validate(try await Self.data(), engine: FakeEngine(drifts: true))
        #expect(!report.passed && report.auditMismatches == 18)
        #expect(report.failures.allSatisfy { $0.hasPrefix("determinism audit: ") })
    }

    @Test("a failed validation fails the run after writing dataset_info.json and showing the summary")
    func failedRun() async throws {
        let run = try FakeRun("drifting", engine: FakeEngine(drifts: true))
        await #expect {
            try await run.execute()
        } throws: { error in
            guard case PipelineError.validationFailed(let failures) = error else { return false }
            return failures.count == 18
        }
        let info = try JSONSerialization.jsonObject(with: Data(contentsOf: run.run.datasetInfo)) as! [String: Any]
        #expect(info["passed"] as? Bool == false && info["determinism_audit_mismatches"] as? Int == 18)
        #expect(run.lines.all.contains { $0.hasPrefix("validate: FAILED on 6 prompts; determinism audit 0/18") })
    }
}
