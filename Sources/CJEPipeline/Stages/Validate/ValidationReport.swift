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
