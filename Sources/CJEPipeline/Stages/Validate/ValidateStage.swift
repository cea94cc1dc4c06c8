import CJEInference
import Foundation

/// Stage 5: checks every output and previews what the CJE estimators will see; writes
/// `data/dataset_info.json`. A hard failure (a log prob that is not finite and <= 0 or is
/// exactly 0, a clone's weight other than exactly 1, a judge score outside [0, 1], a negative
/// variance, a determinism audit mismatch) fails the run after the summary is shown.
public struct ValidateStage: PipelineStage {
    public let context: StageContext
    /// (response, policy) pairs re-scored one by one in a fresh context.
    public var auditSize = 20
    /// Local draws regenerated one by one with their own seeds.
    public var regenerateSize = 10

    public init(context: StageContext) {
        self.context = context
    }

    public static let id = Pipeline.Stage.validate
    /// The audit re-scores every policy alone.
    public static func models(_ config: PipelineConfig) -> [String] { LogprobsStage.models(config) }

    public func run(_ data: inout RunData) async throws -> [StageReport] {
        let report = try await validate(
            responses: try data.require([ResponsesRecord].self, from: .generate),
            logprobs: try data.require([LogprobsRecord].self, from: .logprobs),
            judged: try data.require(JudgedRecords.self, from: .judge),
            oracle: try data.require(OracleLabels.self, from: .oracle), labels: data[LabelSummary.self])
        data[ValidationReport.self] = report
        context.say(report.summary)
        for (name, usage) in context.manifest.providers.sorted(by: { $0.key < $1.key }) {
            context.say("provider \(name), whole run: \(usage.summary)")
        }
        if !report.passed { throw PipelineError.validationFailed(failures: report.failures) }
        return []
    }

    /// Checks the data set, audits determinism on the real engine, computes the diagnostics and
    /// writes them to `data/dataset_info.json`.
    public func validate(
        responses: [ResponsesRecord], logprobs: [LogprobsRecord], judged: JudgedRecords, oracle: OracleLabels,
        labels: LabelSummary? = nil
    ) async throws -> ValidationReport {
        let config = context.config
        let p0Scores = judged.p0Deterministic
        let targetScores = judged.targetsDeterministic
        let validation = oracle.validation
        let calibration = oracle.calibration
        var failures: [String] = []
        var warnings: [String] = []
        let logging = config.logging

        // Joins.
        let ids = responses.map(\.promptId)
        if logprobs.map(\.promptId) != ids {
            failures.append("logprobs.jsonl does not list the prompts of all_responses.jsonl in order")
        }

        // Log probs: finite, <= 0, no exact zeros, no near-zero per-token values on long responses.
        var nulls: [String: Int] = [:]
        for record in logprobs {
            for policy in config.policies {
                guard let value = record.logprobs[policy.name] ?? nil else {
                    nulls[policy.name, default: 0] += 1
                    continue
                }
                if !value.isFinite || value > 0 {
                    failures.append("\(record.promptId)/\(policy.name): log prob \(value) is not finite and <= 0")
                }
                if value == 0 {
                    failures.append("\(record.promptId)/\(policy.name): log prob is exactly 0 for a non-empty response")
                }
                if let n = record.nResponseTokens, n >= 50, value / Double(n) > -1e-4 {
                    warnings.append("\(record.promptId)/\(policy.name): \(n) tokens with a per-token log prob near 0")
                }
            }
        }
        // Clones of the logging policy (same model, prompt, temperature, limit) must weigh exactly 1.
        let clones = config.policies.filter { $0.isClone(of: logging) }
        for clone in clones {
            for record in logprobs {
                let a = record.logprobs[logging.name] ?? nil
                let b = record.logprobs[clone.name] ?? nil
                if let a, let b, exp(b - a) != 1.0 {
                    failures.append("\(record.promptId): \(clone.name) weight is \(exp(b - a)), not exactly 1")
                }
            }
        }
        // Judge scores and variances.
        for record in p0Scores + targetScores + judged.drawsDeterministic + judged.everyDrawUncertainty {
            if let s = record.judgeScore, !(s >= 0 && s <= 1) {
                failures.append("\(record.promptId)/\(record.policy): judge score \(s) outside [0, 1]")
            }
            if let v = record.judgeScoreVariance, !(v >= 0) {
                failures.append("\(record.promptId)/\(record.policy): judge variance \(v) < 0")
            }
        }

        // Determinism audit: re-score a seeded sample one by one, in a fresh context each.
        var pairs: [(record: ResponsesRecord, policy: PolicyConfig, expected: Double)] = []
        let byId = Dictionary(uniqueKeysWithValues: responses.map { ($0.promptId, $0) })
        for record in logprobs {
            for policy in config.policies {
                if let value = record.logprobs[policy.name] ?? nil, let response = byId[record.promptId] {
                    pairs.append((response, policy, value))
                }
            }
        }
        pairs = ItemSeed.ranked(pairs, runSeed: config.seed) { ("audit/" + $0.policy.name, $0.record.promptId) }
        let audit = Array(pairs.prefix(auditSize))
        var mismatches = 0
        for pair in audit {
            let engine = try context.engine(pair.policy.model)
            let request = try LogprobsStage.request(
                record: pair.record, policy: pair.policy, logging: logging, engine: engine)
            let value = try? await engine.scoreBatch([request])[0].get().scored[0].total
            if value != pair.expected {
                mismatches += 1
                failures.append(
                    "determinism audit: \(pair.record.promptId)/\(pair.policy.name) re-scored \(value.map { "\($0)" } ?? "failed") vs \(pair.expected)"
                )
            }
        }

        // Determinism audit, part two: regenerate a seeded sample of local draws one at a time,
        // each with its own seed in a fresh batch of one: the same token ids and sampled log prob.
        var draws: [(record: ResponsesRecord, policy: PolicyConfig, response: ResponseRecord)] = []
        for record in responses {
            for policy in config.policies where policy.provider == nil {
                for (_, response) in record.allDraws(of: policy.name) where response.tokenIds != nil {
                    draws.append((record, policy, response))
                }
            }
        }
        draws = ItemSeed.ranked(draws, runSeed: config.seed) {
            ("regenerate/" + $0.policy.name, $0.record.promptId + "#\($0.response.drawIdx ?? 0)")
        }
        let regenerated = Array(draws.prefix(regenerateSize))
        var regenerateMismatches = 0
        for draw in regenerated {
            let engine = try context.engine(draw.policy.model)
            let request = try GenerateStage.request(
                prompt: draw.record.prompt, policy: draw.policy, seed: draw.response.seed, engine: engine)
            let again = try? await engine.generateBatch([request])[0].get()
            if again?.tokens != draw.response.tokenIds || again?.sampledLogProb != draw.response.sampledLogprob {
                regenerateMismatches += 1
                failures.append(
                    "determinism audit: \(draw.record.promptId)/\(draw.policy.name) regenerated alone gave \(again.map { "\($0.tokens.count) tokens, sampled log prob \($0.sampledLogProb.map { "\($0)" } ?? "none")" } ?? "a failure") vs \(draw.response.tokenIds?.count ?? 0) tokens, \(draw.response.sampledLogprob.map { "\($0)" } ?? "none")"
                )
            }
        }
        let certificate = DeterminismCertificate(
            rescored: audit.count, rescoreMismatches: mismatches, regenerated: regenerated.count,
            regenerateMismatches: regenerateMismatches, engine: context.manifest.current.fingerprint.engine)

        // Weight diagnostics, self-normalised estimates and oracle means.
        let p0Judge = Dictionary(uniqueKeysWithValues: p0Scores.map { ($0.promptId, $0.judgeScore) })
        var diagnostics: [String: ValidationReport.PolicyDiagnostics] = [:]
        for policy in config.policies where policy.name != logging.name {
            var pairs: [(logWeight: Double, score: Double?)] = []
            for record in logprobs {
                guard let a = record.logprobs[logging.name] ?? nil, let b = record.logprobs[policy.name] ?? nil else {
                    continue
                }
                pairs.append((b - a, p0Judge[record.promptId] ?? nil))
            }
            let importance = ImportanceWeights(logWeights: pairs.map(\.logWeight))
            let (weights, total) = (importance.weights, importance.total)
            let mean = weights.isEmpty ? 1 : total / Double(weights.count)
            let normalised = weights.map { $0 / mean }.sorted()
            let quantiles =
                normalised.isEmpty
                ? []
                : [0.05, 0.25, 0.5, 0.75, 0.95].map {
                    normalised[min(normalised.count - 1, Int((Double(normalised.count - 1) * $0).rounded()))]
                }
            let scored: [(weight: Double, score: Double)] = zip(weights, pairs).compactMap { w, p in
                p.score.map { (w, $0) }
            }
            let own: [Double] = targetScores.filter { $0.policy == policy.name }.compactMap(\.judgeScore)
            let labels: [Double] = validation.filter { $0.policy == policy.name }.compactMap(\.yTrue)
            let ess = importance.effectiveSampleSize
            let share = importance.largestShare
            let snips = ImportanceWeights.selfNormalised(scored)
            let ownMean = own.mean
            let oracleMean = labels.mean
            diagnostics[policy.name] = ValidationReport.PolicyDiagnostics(
                samples: pairs.count, effectiveSampleSize: ess, largestWeightShare: share, weightQuantiles: quantiles,
                snipsJudgeMean: snips, ownJudgeMean: ownMean, oracleMean: oracleMean, oracleLabels: labels.count)
        }
        let labelled = calibration.filter(\.selected)
        if labelled.isEmpty { warnings.append("no calibration oracle labels") }
        let missing = labelled.filter { $0.yTrue == nil }.count
        if missing > 0 { warnings.append("\(missing) of \(labelled.count) calibration labels failed") }

        var nullRates: [String: Double] = [:]
        for policy in config.policies {
            nullRates["logprobs/" + policy.name] =
                logprobs.isEmpty ? 0 : Double(nulls[policy.name] ?? 0) / Double(logprobs.count)
        }
        let deterministic = judged.deterministic
        nullRates["judge_deterministic"] =
            deterministic.isEmpty
            ? 0 : Double(deterministic.filter { $0.judgeScore == nil }.count) / Double(deterministic.count)
        // The default design's file stays the original experiment's; another design says how its
        // labels were drawn and where CJE's floors are not met.
        let declared = labels.flatMap { $0.design != .original || $0.probes > 0 ? $0.compact : nil }
        warnings += declared?.warnings ?? []
        var report = ValidationReport(
            prompts: responses.count, failures: failures, warnings: warnings, nullRates: nullRates,
            auditPairs: audit.count, auditMismatches: mismatches, policies: diagnostics)
        report.labelDesign = declared
        report.determinism = certificate
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(try encoder.encode(report), to: context.run.datasetInfo)
        return report
    }
}
