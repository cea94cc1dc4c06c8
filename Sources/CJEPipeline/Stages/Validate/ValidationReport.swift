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
        /// Why the policy has no importance weights (it or the logging policy has no log probs),
        /// or nil.
        public var noWeights: String?

        enum CodingKeys: String, CodingKey {
            case samples
            case effectiveSampleSize = "effective_sample_size"
            case largestWeightShare = "largest_weight_share"
            case weightQuantiles = "weight_quantiles"
            case snipsJudgeMean = "snips_judge_mean"
            case ownJudgeMean = "own_judge_mean"
            case oracleMean = "oracle_mean"
            case oracleLabels = "oracle_labels"
            case noWeights = "no_weights"
        }
    }

    /// A clone of the logging policy teacher-forced over HTTP: how far its log probs of the same
    /// responses fall from the logging policy's, |log w| (0 on a batch-invariant endpoint).
    public struct CloneNoise: Codable, Sendable, Hashable {
        public var method: String
        public var pairs: Int
        public var median: Double?
        public var p95: Double?
        public var max: Double?
        /// Pairs whose weight is exactly 1.
        public var exact: Int

        public init(method: String, absLogWeights: [Double]) {
            self.method = method
            let sorted = absLogWeights.sorted()
            pairs = sorted.count
            func quantile(_ q: Double) -> Double? {
                sorted.isEmpty ? nil : sorted[Int((Double(sorted.count - 1) * q).rounded())]
            }
            median = quantile(0.5)
            p95 = quantile(0.95)
            max = sorted.last
            exact = sorted.filter { $0 == 0 }.count
        }

        /// "|log w| median 0.0012, 95% 0.0100, max 0.0300 over 20 pairs (3 exactly 1), vllm".
        public var summary: String {
            func f(_ v: Double?) -> String { v.map { String(format: "%.4g", $0) } ?? "n/a" }
            return
                "|log w| median \(f(median)), 95% \(f(p95)), max \(f(max)) over \(pairs) pairs (\(exact) weights exactly 1), teacher-forced by \(method)"
        }
    }

    /// Answers given and answers that parsed as a score 0-10 (`parse_ok` on each row).
    public struct ParseCounts: Codable, Sendable, Hashable {
        public var answers = 0
        public var parsed = 0
    }

    public var prompts: Int
    public var failures: [String]
    public var warnings: [String]
    public var nullRates: [String: Double]
    public var auditPairs: Int
    public var auditMismatches: Int
    public var policies: [String: PolicyDiagnostics]
    /// How the labels were drawn, for a design other than the default (whose file stays as the
    /// original experiment's).
    public var labelDesign: LabelSummary?
    /// What validate re-checked on the engine, how, and on which build.
    public var determinism: DeterminismCertificate?
    /// The judge's greedy answers over every draw, and the oracle's over every drawn row.
    public var parseOk: [String: ParseCounts] = [:]
    /// The config's `decision_margin`, declared before the run.
    public var decisionMargin: Double?
    /// Why the run is Direct mode only (no off-policy set), in one sentence; nil when every
    /// policy has log probs.
    public var directOnly: String?
    /// Clones of the logging policy teacher-forced over HTTP: the endpoint's measured noise.
    public var cloneNoise: [String: CloneNoise] = [:]

    public var passed: Bool { failures.isEmpty }

    enum CodingKeys: String, CodingKey {
        case prompts, failures, warnings, policies, passed
        case nullRates = "null_rates"
        case auditPairs = "determinism_audit_pairs"
        case auditMismatches = "determinism_audit_mismatches"
        case labelDesign = "label_design"
        case determinism
        case parseOk = "parse_ok"
        case decisionMargin = "decision_margin"
        case directOnly = "direct_only"
        case cloneNoise = "clone_noise"
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
        try c.encodeIfPresent(labelDesign, forKey: .labelDesign)
        try c.encodeIfPresent(determinism, forKey: .determinism)
        try c.encode(parseOk, forKey: .parseOk)
        try c.encodeIfPresent(decisionMargin, forKey: .decisionMargin)
        try c.encodeIfPresent(directOnly, forKey: .directOnly)
        if !cloneNoise.isEmpty { try c.encode(cloneNoise, forKey: .cloneNoise) }
    }
}

extension ValidationReport {
    /// A readable summary for the console.
    public var summary: String {
        var lines = [
            "validate: \(passed ? "PASSED" : "FAILED") on \(prompts) prompts; determinism audit \(auditPairs - auditMismatches)/\(auditPairs) re-scored\(determinism.map { ", \($0.regenerated - $0.regenerateMismatches)/\($0.regenerated) regenerated" } ?? "") bit-identical"
        ]
        func f(_ v: Double?) -> String { v.map { String(format: "%.3f", $0) } ?? "n/a" }
        if let directOnly { lines.append("  \(directOnly) Weight checks skipped: there are no weights to check.") }
        for (name, d) in policies.sorted(by: { $0.key < $1.key }) {
            if d.noWeights != nil {
                lines.append(
                    "  \(name): no weights (Direct mode only), own judge=\(f(d.ownJudgeMean)) oracle=\(f(d.oracleMean)) (\(d.oracleLabels) labels)"
                )
                continue
            }
            lines.append(
                "  \(name): n=\(d.samples) ESS=\(f(d.effectiveSampleSize)) max share=\(f(d.largestWeightShare)) SNIPS judge=\(f(d.snipsJudgeMean)) own judge=\(f(d.ownJudgeMean)) oracle=\(f(d.oracleMean)) (\(d.oracleLabels) labels)"
            )
        }
        for (name, noise) in cloneNoise.sorted(by: { $0.key < $1.key }) {
            lines.append("  \(name) clone noise: \(noise.summary)")
        }
        for (key, rate) in nullRates.sorted(by: { $0.key < $1.key }) where rate > 0 {
            lines.append("  null rate \(key): \(String(format: "%.1f%%", rate * 100))")
        }
        lines += failures.prefix(10).map { "  FAIL \($0)" }
        lines += warnings.prefix(10).map { "  warn \($0)" }
        return lines.joined(separator: "\n")
    }
}

/// The data set's determinism certificate (`determinism` in `dataset_info.json`): a seeded sample
/// of P0 responses re-scored under each policy alone in a fresh context (the same log prob to
/// the bit), and a seeded sample of local draws regenerated alone with their own seeds (the same
/// token ids and sampled log prob), on the named engine build.
public struct DeterminismCertificate: Codable, Sendable, Hashable {
    public var rescored: Int
    public var rescoreMismatches: Int
    public var regenerated: Int
    public var regenerateMismatches: Int
    /// The engine build that ran the checks and every item (the fingerprint's: llama.cpp's
    /// commit and the instruction set it was compiled for).
    public var engine: String
    public var how =
        "rescored: teacher forcing of the logged response under each policy, one request in a fresh batch, compared bit for bit; regenerated: sampling with the draw's own seed, one request in a fresh batch, token ids and sampled log prob compared bit for bit"

    enum CodingKeys: String, CodingKey {
        case rescored, regenerated, engine, how
        case rescoreMismatches = "rescore_mismatches"
        case regenerateMismatches = "regenerate_mismatches"
    }
}
