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
    }
}

extension ValidationReport {
    /// A readable summary for the console.
    public var summary: String {
        var lines = [
            "validate: \(passed ? "PASSED" : "FAILED") on \(prompts) prompts; determinism audit \(auditPairs - auditMismatches)/\(auditPairs) re-scored\(determinism.map { ", \($0.regenerated - $0.regenerateMismatches)/\($0.regenerated) regenerated" } ?? "") bit-identical"
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
