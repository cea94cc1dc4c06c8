import Foundation

/// How the oracle's labels were drawn and what they cover, per policy: `cje/label_design.json`
/// (with every row's inclusion probability, in the order of its responses file) and, for a
/// design other than the default, `label_design` in `data/dataset_info.json`.
public struct LabelSummary: Codable, Sendable, Hashable {
    public struct Policy: Codable, Sendable, Hashable {
        /// Rows in `cje/responses/<policy>_responses.jsonl`.
        public var rows: Int
        public var labelledRows: Int
        public var labelledPrompts: Int
        public var probeRows: Int
        /// Share of the policy's judge scores outside the labelled range (pooled over every
        /// policy's labels, widened by CJE's tolerance of a tenth of the scale).
        public var outsideLabelledRange: Double?
        /// The inclusion probability of every row, in file order (only in `label_design.json`).
        public var propensities: [Double]?

        enum CodingKeys: String, CodingKey {
            case rows, propensities
            case labelledRows = "labelled_rows"
            case labelledPrompts = "labelled_prompts"
            case probeRows = "probe_rows"
            case outsideLabelledRange = "outside_labelled_range"
        }
    }

    public var design: LabelDesign.Kind
    /// What to pass CJE as `label_design`.
    public var cjeLabelDesign: String
    public var fraction: Double?
    public var strata: [LabelDesign.Stratum]?
    public var probes: Double
    public var probeMargin: Double?
    public var seed: UInt64
    public var samplePrompts: Int
    public var judgeScale: [Double] = [0, 1]
    public var oracleScale: [Double] = [0, 1]
    public var policies: [String: Policy]
    public var warnings: [String]

    enum CodingKeys: String, CodingKey {
        case design, fraction, strata, probes, seed, policies, warnings
        case cjeLabelDesign = "cje_label_design"
        case probeMargin = "probe_margin"
        case samplePrompts = "sample_prompts"
        case judgeScale = "judge_scale"
        case oracleScale = "oracle_scale"
    }

    /// CJE's floors: labelled prompts per policy below which its interval is not useful, and the
    /// share of a policy's scores outside the labelled range at which it refuses a level.
    static let minimumLabelledPrompts = 20
    static let maximumOutside = 0.05
    static let rangeTolerance = 0.1

    /// "p0 21 on 21 prompts, pi_bad 21 on 21 prompts + 8 probes", in `order`.
    public func perPolicy(_ order: [String]) -> String {
        order.compactMap { name in
            policies[name].map { p in
                "\(name) \(p.labelledRows) on \(p.labelledPrompts) prompts"
                    + (p.probeRows > 0 ? " + \(p.probeRows) probes" : "")
            }
        }
        .joined(separator: ", ")
    }

    /// Without the per-row propensities (for `dataset_info.json`).
    public var compact: LabelSummary {
        var out = self
        for name in out.policies.keys { out.policies[name]?.propensities = nil }
        return out
    }

    /// The warnings for CJE's floors.
    static func floorWarnings(_ policies: [String: Policy]) -> [String] {
        var out: [String] = []
        for (name, p) in policies.sorted(by: { $0.key < $1.key }) {
            if p.labelledPrompts < minimumLabelledPrompts {
                out.append(
                    "\(name): \(p.labelledPrompts) labelled prompt(s), fewer than the \(minimumLabelledPrompts) CJE needs for a useful interval (more prompts or a larger oracle.fraction)"
                )
            }
            if let outside = p.outsideLabelledRange, outside >= maximumOutside {
                out.append(
                    String(
                        format:
                            "%@: %.0f%% of its judge scores lie outside the labelled range; CJE refuses a level estimate at 5%% (label more widely: design stratified)",
                        name, outside * 100))
            }
        }
        return out
    }
}
