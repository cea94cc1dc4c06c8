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
        /// Rows of the frame (every draw of every sampled prompt), complete or not, and how many
        /// are missing at each stage (`cje/frame/<policy>.jsonl` has each one and why).
        public var frameRows: Int?
        public var missing: Missing?

        enum CodingKeys: String, CodingKey {
            case rows, propensities, missing
            case frameRows = "frame_rows"
            case labelledRows = "labelled_rows"
            case labelledPrompts = "labelled_prompts"
            case probeRows = "probe_rows"
            case outsideLabelledRange = "outside_labelled_range"
        }
    }

    /// Rows of the frame missing at each stage: no response, no judge score, drawn for a label
    /// and not labelled.
    public struct Missing: Codable, Sendable, Hashable {
        public var generate: Int
        public var judge: Int
        public var label: Int
    }

    /// The first stage's inclusion probability: `drawn` prompts, a simple random sample (the
    /// seeded ranking's first) of the `eligible` prompts the source holds after the language
    /// filter and without empty ones, of those that fit the engine's sequences. `passedOverTooLong`
    /// prompts were passed over in the ranking for not fitting: with none, `probability` is
    /// exactly `drawn / eligible`; otherwise the number that fit is estimated from the walk's
    /// share (`exact` false) and `probability` is `(drawn + passed over) / eligible`.
    public struct PromptInclusion: Codable, Sendable, Hashable {
        public var source: String
        public var eligible: Int
        public var drawn: Int
        public var passedOverTooLong: Int
        public var probability: Double
        public var exact: Bool

        enum CodingKeys: String, CodingKey {
            case source, eligible, drawn, probability, exact
            case passedOverTooLong = "passed_over_too_long"
        }

        init?(_ outcome: PromptsOutcome, drawn: Int, source: PromptsConfig) {
            guard let eligible = outcome.sourceSize, eligible > 0 else { return nil }
            let passed = outcome.leftOut["too_long"] ?? 0
            self.source = source.source
            self.eligible = eligible
            self.drawn = drawn
            passedOverTooLong = passed
            // Every fitting prompt drawn (the walk reached the end), or none passed over: exact.
            exact = passed == 0 || drawn + passed >= eligible
            probability = exact && passed > 0 ? 1 : min(1, Double(drawn + passed) / Double(eligible))
        }
    }

    /// Prompts drawn from the source (nil in a manifest written before the source's size was kept).
    public var prompts: PromptInclusion?
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
    /// The config's `decision_margin`, declared before the run (absent: none declared).
    public var decisionMargin: Double?
    /// Why the run is Direct mode only (no off-policy set), in one sentence (absent: it has both).
    public var directOnly: String?

    enum CodingKeys: String, CodingKey {
        case design, fraction, strata, probes, seed, policies, warnings
        case directOnly = "direct_only"
        case cjeLabelDesign = "cje_label_design"
        case probeMargin = "probe_margin"
        case samplePrompts = "sample_prompts"
        case judgeScale = "judge_scale"
        case oracleScale = "oracle_scale"
        case decisionMargin = "decision_margin"
        case prompts
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
