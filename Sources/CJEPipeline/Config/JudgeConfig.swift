/// The LLM judge.
public struct JudgeConfig: Codable, Sendable, Hashable, RubricScorerConfig {
    public var model: String = "default"
    public var provider: String?
    public var maxTokens: Int = 8
    public var deterministicSetting: DeterministicRule?
    public var uncertaintySetting: UncertaintyMethod?
    public var samples: Int = 5

    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable {
        case model, provider, samples
        case deterministicSetting = "deterministic"
        case uncertaintySetting = "uncertainty"
        case maxTokens = "max_tokens"
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        provider = try c.decodeExclusiveProvider(model: .model, provider: .provider)
        model = try c.decodeIfPresent(String.self, forKey: .model) ?? model
        maxTokens = try c.decodeIfPresent(Int.self, forKey: .maxTokens) ?? maxTokens
        deterministicSetting = try c.decodeChoice(DeterministicRule.self, forKey: .deterministicSetting)
        uncertaintySetting = try c.decodeChoice(UncertaintyMethod.self, forKey: .uncertaintySetting)
        samples = try c.decodeIfPresent(Int.self, forKey: .samples) ?? samples
    }
}
