/// The oracle: a stronger judge labelling a seeded slice.
public struct OracleConfig: Codable, Sendable, Hashable, RubricScorerConfig {
    public var model: String = "default"
    public var provider: String?
    /// Share of P0 responses (calibration) and of target responses (validation) to label.
    public var fraction: Double = 0.25
    /// Seed of the slice, separate from the run seed so the slice can be redrawn alone.
    public var seed: UInt64 = 7
    public var deterministicSetting: DeterministicRule?
    public var uncertaintySetting: UncertaintyMethod?
    public var samples: Int = 5
    /// Longest greedy answer, the oracle's own (before it had one it used the judge's).
    public var maxTokens: Int = 8

    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable {
        case model, provider, fraction, seed, samples
        case deterministicSetting = "deterministic"
        case uncertaintySetting = "uncertainty"
        case maxTokens = "max_tokens"
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        provider = try c.decodeExclusiveProvider(model: .model, provider: .provider)
        model = try c.decodeIfPresent(String.self, forKey: .model) ?? model
        fraction = try c.decodeIfPresent(Double.self, forKey: .fraction) ?? fraction
        seed = try c.decodeIfPresent(UInt64.self, forKey: .seed) ?? seed
        deterministicSetting = try c.decodeChoice(DeterministicRule.self, forKey: .deterministicSetting)
        uncertaintySetting = try c.decodeChoice(UncertaintyMethod.self, forKey: .uncertaintySetting)
        samples = try c.decodeIfPresent(Int.self, forKey: .samples) ?? samples
        maxTokens = try c.decodeIfPresent(Int.self, forKey: .maxTokens) ?? maxTokens
    }

    public func encode(to encoder: any Encoder) throws { try encode(to: encoder, judgeMaxTokens: nil) }

    /// Encodes, leaving `max_tokens` out when it equals `judgeMaxTokens`: a run made when the
    /// oracle used the judge's length keeps its fingerprint exactly when it keeps its numbers.
    func encode(to encoder: any Encoder, judgeMaxTokens: Int?) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encodeScorer(
            self, model: .model, provider: .provider, deterministic: .deterministicSetting,
            uncertainty: .uncertaintySetting, samples: .samples)
        try c.encode(fraction, forKey: .fraction)
        try c.encode(seed, forKey: .seed)
        if maxTokens != judgeMaxTokens { try c.encode(maxTokens, forKey: .maxTokens) }
    }
}
