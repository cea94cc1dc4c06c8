public import CJEInference
import Foundation

/// What `validate` found: hard failures (exit non-zero), warnings, and statistics.
public struct ValidationReport: Encodable, Sendable {
    /// Importance-weight diagnostics and estimates for one target policy.
    public struct PolicyDiagnostics: Codable, Sendable {
        public var samples: Int
        public var effectiveSampleSize: Double?
        public var largestWeightShare: Double?
        /// Weight quantiles (weights normalised to mean 1): 5%, 25%, 50%, 75%, 95%.
        public var weightQuantiles: [Double]
        /// Self-normalised estimate of the policy's mean judge score from P0's responses.
        public var snipsJudgeMean: Double?
        /// Mean judge score of the policy's own responses, and oracle mean of its labelled ones.
        public var ownJudgeMean: Double?
        public var oracleMean: Double?
        public var oracleLabels: Int

        enum CodingKeys: String, CodingKey {
            case samples
            case effectiveSampleSize = "effective_sample_size"
            case largestWeightShare = "largest_weight_share"
            case weightQuantiles = "weight_quantiles"
            case snipsJudgeMean = "snips_judge_mean"
            case ownJudgeMean = "own_judge_mean"
            case oracleMean = "oracle_mean"
            case oracleLabels = "oracle_labels"
        }
    }

    public var prompts: Int
    public var failures: [String]
    public var warnings: [String]
    public var nullRates: [String: Double]
    public var auditPairs: Int
    public var auditMismatches: Int
    public var policies: [String: PolicyDiagnostics]

    public var passed: Bool { failures.isEmpty }

    enum CodingKeys: String, CodingKey {
        case prompts, failures, warnings, policies, passed
        case nullRates = "null_rates"
        case auditPairs = "determinism_audit_pairs"
        case auditMismatches = "determinism_audit_mismatches"
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(prompts, forKey: .prompts)
        try c.encode(passed, forKey: .passed)
        try c.encode(failures, forKey: .failures)
        try c.encode(warnings, forKey: .warnings)
        try c.encode(nullRates, forKey: .nullRates)
        try c.encode(auditPairs, forKey: .auditPairs)
        try c.encode(auditMismatches, forKey: .auditMismatches)
        try c.encode(policies, forKey: .policies)
    }
}

/// Stage 5: checks every output and previews what the CJE estimators will see.
public struct ValidateStage: Sendable {
    public let config: PipelineConfig
    public let run: RunDirectory
    public let engine: @Sendable (String) throws -> any TextEngine
    /// (response, policy) pairs re-scored one by one in a fresh context.
    public var auditSize = 20

    public init(
        config: PipelineConfig, run: RunDirectory, engine: @escaping @Sendable (String) throws -> any TextEngine
    ) {
        self.config = config
        self.run = run
        self.engine = engine
    }

    public func execute() async throws -> ValidationReport {
        let responses = try JSONLines.decode(ResponsesRecord.self, from: run.responses)
        let logprobs = try JSONLines.decode(LogprobsRecord.self, from: run.logprobs)
        let p0Scores = try JSONLines.decode(ScoredRecord.self, from: run.scored("p0", "deterministic"))
        let targetScores = try JSONLines.decode(ScoredRecord.self, from: run.scored("targets", "deterministic"))
        let uncertainty =
            try JSONLines.decode(ScoredRecord.self, from: run.scored("p0", "uncertainty"))
            + JSONLines.decode(ScoredRecord.self, from: run.scored("targets", "uncertainty"))
        let validation = try JSONLines.decode(OracleRecord.self, from: run.oracleLabels("validation"))
        let calibration = try JSONLines.decode(OracleRecord.self, from: run.oracleLabels("calibration"))
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
        let clones = config.policies.filter {
            $0.name != logging.name && $0.model == logging.model && $0.systemPrompt == logging.systemPrompt
                && $0.temperature == logging.temperature && $0.maxTokens == logging.maxTokens
        }
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
        for record in p0Scores + targetScores + uncertainty {
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
            let engine = try engine(pair.policy.model)
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
            let top = pairs.map(\.logWeight).max() ?? 0
            let weights = pairs.map { exp($0.logWeight - top) }
            let total = weights.reduce(0, +)
            let squares = weights.reduce(0) { $0 + $1 * $1 }
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
            let scoredTotal: Double = scored.reduce(0.0) { $0 + $1.weight }
            let weightedScore: Double = scored.reduce(0.0) { $0 + $1.weight * $1.score }
            let own: [Double] = targetScores.filter { $0.policy == policy.name }.compactMap(\.judgeScore)
            let labels: [Double] = validation.filter { $0.policy == policy.name }.compactMap(\.yTrue)
            let ess: Double? = total > 0 ? total * total / squares : nil
            let share: Double? = total > 0 ? (weights.max() ?? 0) / total : nil
            let snips: Double? = scoredTotal > 0 ? weightedScore / scoredTotal : nil
            let ownMean: Double? = own.isEmpty ? nil : own.reduce(0, +) / Double(own.count)
            let oracleMean: Double? = labels.isEmpty ? nil : labels.reduce(0, +) / Double(labels.count)
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
        let judged = p0Scores + targetScores
        nullRates["judge_deterministic"] =
            judged.isEmpty ? 0 : Double(judged.filter { $0.judgeScore == nil }.count) / Double(judged.count)
        let report = ValidationReport(
            prompts: responses.count, failures: failures, warnings: warnings, nullRates: nullRates,
            auditPairs: audit.count, auditMismatches: mismatches, policies: diagnostics)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(try encoder.encode(report), to: run.root.appendingPathComponent("data/dataset_info.json"))
        return report
    }
}

extension ValidationReport {
    /// A readable summary for the console.
    public var summary: String {
        var lines = [
            "validate: \(passed ? "PASSED" : "FAILED") on \(prompts) prompts; determinism audit \(auditPairs - auditMismatches)/\(auditPairs) bit-identical"
        ]
        func f(_ v: Double?) -> String { v.map { String(format: "%.3f", $0) } ?? "n/a" }
        for (name, d) in policies.sorted(by: { $0.key < $1.key }) {
            lines.append(
                "  \(name): n=\(d.samples) ESS=\(f(d.effectiveSampleSize)) max share=\(f(d.largestWeightShare)) SNIPS judge=\(f(d.snipsJudgeMean)) own judge=\(f(d.ownJudgeMean)) oracle=\(f(d.oracleMean)) (\(d.oracleLabels) labels)"
            )
        }
        for (key, rate) in nullRates.sorted(by: { $0.key < $1.key }) where rate > 0 {
            lines.append("  null rate \(key): \(String(format: "%.1f%%", rate * 100))")
        }
        lines += failures.prefix(10).map { "  FAIL \($0)" }
        lines += warnings.prefix(10).map { "  warn \($0)" }
        return lines.joined(separator: "\n")
    }
}
