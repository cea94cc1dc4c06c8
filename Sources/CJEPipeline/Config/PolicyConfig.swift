/// A policy: a distribution over responses given a prompt.
public struct PolicyConfig: Codable, Sendable, Hashable {
    public var name: String
    /// A local model under `models`; ignored when `provider` is set.
    public var model: String = "default"
    /// A provider under `providers` that generates this policy's responses instead.
    public var provider: String?
    public var systemPrompt: String
    public var temperature: Double = 0.5
    public var maxTokens: Int = 512
    /// Responses per prompt for this policy (nil: the config's `draws`).
    public var draws: Int?

    public init(
        name: String, model: String = "default", systemPrompt: String, temperature: Double = 0.5, maxTokens: Int = 512
    ) {
        self.name = name
        self.model = model
        self.systemPrompt = systemPrompt
        self.temperature = temperature
        self.maxTokens = maxTokens
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case name, model, provider, temperature, draws
        case systemPrompt = "system_prompt"
        case maxTokens = "max_tokens"
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        provider = try c.decodeExclusiveProvider(model: .model, provider: .provider, in: decoder)
        model = try c.decodeIfPresent(String.self, forKey: .model) ?? model
        systemPrompt = try c.decode(String.self, forKey: .systemPrompt)
        temperature = try c.decodeIfPresent(Double.self, forKey: .temperature) ?? temperature
        maxTokens = try c.decodeIfPresent(Int.self, forKey: .maxTokens) ?? maxTokens
        draws = try c.decodeIfPresent(Int.self, forKey: .draws)
    }
}

extension PolicyConfig {
    /// Whether this policy's teacher-forced log prob of any response equals `other`'s: same
    /// model (or provider), system prompt and temperature send the same request (context
    /// tokens, response tokens, end-of-turn, temperature). The logprobs stage computes such
    /// values once on the engine; over HTTP each policy's value is its own measurement.
    public func scoresLike(_ other: PolicyConfig) -> Bool {
        model == other.model && provider == other.provider && systemPrompt == other.systemPrompt
            && temperature == other.temperature
    }

    /// Whether this policy is a clone of `other`: it scores like it and would also generate the
    /// same responses (same length limit), so its importance weights must be exactly 1.
    public func isClone(of other: PolicyConfig) -> Bool {
        name != other.name && scoresLike(other) && maxTokens == other.maxTokens
    }
}
