/// The oracle: a stronger judge labelling a seeded, declared probability sample of the responses.
/// Who it is and how it answers are a labeller's settings, as for the judge (read through, as
/// `oracle.model`); the rest is its label design.
@dynamicMemberLookup
public struct OracleConfig: Codable, Sendable, Hashable {
    public var labeller = LabellerConfig()
    /// How the labelled rows are chosen (`LabelDesign`): `original` (the default) labels a seeded
    /// `fraction` of P0's responses (calibration) and of each target's (validation); `paired` a
    /// seeded simple random sample of `fraction` of the prompts, every policy's response on each;
    /// `stratified` each row at its judge-score stratum's rate (`strata`).
    public var design: LabelDesign.Kind = .original
    /// Share of each population (`original`) or of the prompts (`paired`) to label.
    public var fraction: Double = 0.25
    /// `stratified` only: judge-score strata, in order, each labelling its rows at `rate`.
    public var strata: [LabelDesign.Stratum]?
    /// Share of the prompts held out per target policy as transport probes: that policy's
    /// responses on them are labelled, written to `cje/probes/`, and never calibrate.
    public var probes: Double = 0
    /// The transport audit's margin (`delta_max`) for every probed policy, in label units, declared
    /// before any probe is seen.
    public var probeMargin: Double = 0.05
    /// Seed of the slice, separate from the run seed so the slice can be redrawn alone.
    public var seed: UInt64 = 7

    public init() {}

    public subscript<Value>(dynamicMember setting: WritableKeyPath<LabellerConfig, Value>) -> Value {
        get { labeller[keyPath: setting] }
        set { labeller[keyPath: setting] = newValue }
    }

    public subscript<Value>(dynamicMember setting: KeyPath<LabellerConfig, Value>) -> Value {
        labeller[keyPath: setting]
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case model, provider, design, fraction, strata, probes, seed, samples
        case probeMargin = "probe_margin"
        case deterministicSetting = "deterministic"
        case uncertaintySetting = "uncertainty"
        case maxTokens = "max_tokens"
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        labeller = try LabellerConfig(reading: decoder)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        design = try c.decodeChoice(LabelDesign.Kind.self, forKey: .design) ?? design
        fraction = try c.decodeIfPresent(Double.self, forKey: .fraction) ?? fraction
        strata = try c.decodeIfPresent([LabelDesign.Stratum].self, forKey: .strata)
        probes = try c.decodeIfPresent(Double.self, forKey: .probes) ?? probes
        probeMargin = try c.decodeIfPresent(Double.self, forKey: .probeMargin) ?? probeMargin
        seed = try c.decodeIfPresent(UInt64.self, forKey: .seed) ?? seed
    }

    public func encode(to encoder: any Encoder) throws { try encode(to: encoder, judgeMaxTokens: nil) }

    /// Encodes, leaving out what equals the old defaults: `max_tokens` when it equals
    /// `judgeMaxTokens`, the design when it is `original` with no probes. A run made before
    /// these settings existed keeps its fingerprint exactly when it keeps its numbers.
    func encode(to encoder: any Encoder, judgeMaxTokens: Int?) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encodeScorer(
            labeller, model: .model, provider: .provider, deterministic: .deterministicSetting,
            uncertainty: .uncertaintySetting, samples: .samples)
        if design != .original { try c.encode(design.rawValue, forKey: .design) }
        if design != .stratified { try c.encode(fraction, forKey: .fraction) }
        try c.encodeIfPresent(strata, forKey: .strata)
        if probes > 0 {
            try c.encode(probes, forKey: .probes)
            try c.encode(probeMargin, forKey: .probeMargin)
        }
        try c.encode(seed, forKey: .seed)
        if labeller.maxTokens != judgeMaxTokens { try c.encode(labeller.maxTokens, forKey: .maxTokens) }
    }

    /// Refuses settings that make no probability sample, naming the key.
    func validateDesign(fail: (String, String) -> any Error) throws {
        if !(fraction > 0 && fraction <= 1) { throw fail("oracle.fraction", "must be in (0, 1]") }
        if !(probes >= 0 && probes < 1) { throw fail("oracle.probes", "must be in [0, 1) (a share of the prompts)") }
        if !(probeMargin > 0 && probeMargin.isFinite) { throw fail("oracle.probe_margin", "must be a number > 0") }
        switch design {
        case .original, .paired:
            if strata != nil { throw fail("oracle.strata", "is for `design: stratified` only") }
        case .stratified:
            guard let strata, !strata.isEmpty else {
                throw fail(
                    "oracle.strata",
                    "is required for `design: stratified`: a list of {below: SCORE, rate: R}, the last without `below`")
            }
            var previous = -Double.infinity
            for (k, stratum) in strata.enumerated() {
                if !(stratum.rate > 0 && stratum.rate <= 1) {
                    throw fail("oracle.strata[\(k)].rate", "must be in (0, 1]: every row needs a chance to be labelled")
                }
                if k == strata.count - 1 {
                    if stratum.below != nil {
                        throw fail(
                            "oracle.strata[\(k)].below", "must be left out on the last stratum (it takes the rest)")
                    }
                } else {
                    guard let below = stratum.below, below > previous, below > 0, below < 1 else {
                        throw fail(
                            "oracle.strata[\(k)].below",
                            "must be a judge score in (0, 1), larger than the stratum before's")
                    }
                    previous = below
                }
            }
        }
    }
}
