/// Who labels responses with a rubric, and how: the settings the judge (`judge:`) and the
/// oracle (`oracle:`, beside its label design) share. A local model, or a provider.
public struct LabellerConfig: Codable, Sendable, Hashable {
    public var model: String = "default"
    public var provider: String?
    /// Longest greedy answer (decoded and kept for audits under either rule).
    public var maxTokens: Int = 8
    /// As configured; nil takes the default for the kind of labeller (`deterministic`).
    public var deterministicSetting: DeterministicRule?
    public var uncertaintySetting: UncertaintyMethod?
    /// Answers drawn under `uncertainty: samples`.
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
        try self.init(reading: decoder)
    }

    /// Its keys from `decoder`, whose other keys are someone else's (the oracle's design).
    init(reading decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        provider = try c.decodeExclusiveProvider(model: .model, provider: .provider, in: decoder)
        model = try c.decodeIfPresent(String.self, forKey: .model) ?? model
        maxTokens = try c.decodeIfPresent(Int.self, forKey: .maxTokens) ?? maxTokens
        deterministicSetting = try c.decodeChoice(DeterministicRule.self, forKey: .deterministicSetting)
        uncertaintySetting = try c.decodeChoice(UncertaintyMethod.self, forKey: .uncertaintySetting)
        samples = try c.decodeIfPresent(Int.self, forKey: .samples) ?? samples
    }

    /// The judge's keys as configured (a fingerprint's `judge`); the oracle writes its own.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(model, forKey: .model)
        try c.encodeIfPresent(provider, forKey: .provider)
        try c.encode(maxTokens, forKey: .maxTokens)
        try c.encodeIfPresent(deterministicSetting, forKey: .deterministicSetting)
        try c.encodeIfPresent(uncertaintySetting, forKey: .uncertaintySetting)
        try c.encode(samples, forKey: .samples)
    }

    /// `argmax` for a local model (every answer's probability is known), `greedy` (temperature
    /// 0, parsed strictly) for a provider.
    public var deterministic: DeterministicRule { deterministicSetting ?? (provider == nil ? .argmax : .greedy) }
    /// A provider judge's distribution source; nil for a local model (exact distribution).
    public var uncertainty: UncertaintyMethod? { provider == nil ? nil : uncertaintySetting ?? .topLogprobs }

    /// The temperature its answers are drawn at: 1 under `uncertainty: samples`, else 0 (the
    /// greedy answer; a distribution read, not sampled).
    public var answerTemperature: Double { uncertainty == .samples ? 1 : 0 }

    /// The method written beside its uncertainty scores: the configured one, or the exact
    /// distribution of a local model.
    public var uncertaintyMethod: JudgeMethod { uncertainty.map(JudgeMethod.init) ?? .exactDistribution }

    /// Who answers, for a person and for the bundle: a local file's sha256, or the provider and
    /// its model.
    func identity(providers: [String: ProviderConfig], models: [String: String]) -> String {
        if let provider { return "provider \(provider): \(providers[provider]?.model ?? "?")" }
        return "\(model) sha256:\(models[model] ?? "?")"
    }

    func validate(_ key: String, config: PipelineConfig, fail: (String, String) -> ConfigError) throws {
        if let provider {
            if config.providers[provider] == nil {
                throw fail(key + ".provider", "names provider '\(provider)', which is not under 'providers'")
            }
            if deterministicSetting == .argmax {
                throw fail(
                    key + ".deterministic",
                    "is argmax, which needs every answer's probability; a provider judge answers at temperature 0 and is parsed strictly (greedy)"
                )
            }
        } else {
            if config.models[model] == nil {
                throw fail(key + ".model", "names model '\(model)', which is not under 'models'")
            }
            if uncertaintySetting != nil {
                throw fail(
                    key + ".uncertainty",
                    "applies to provider judges only; a local model's distribution is always exact (every answer scored)"
                )
            }
        }
        if !(2...100).contains(samples) { throw fail(key + ".samples", "must be between 2 and 100") }
        if maxTokens < 1 { throw fail(key + ".max_tokens", "must be at least 1 (got \(maxTokens))") }
    }
}

extension KeyedEncodingContainer {
    /// The scorer keys: the resolved rule always (so configs written before providers existed
    /// fingerprint as before), the provider keys only for a provider.
    mutating func encodeScorer(
        _ scorer: LabellerConfig, model: Key, provider: Key, deterministic: Key, uncertainty: Key,
        samples: Key
    ) throws {
        try encode(scorer.model, forKey: model)
        try encode(scorer.deterministic.rawValue, forKey: deterministic)
        if let name = scorer.provider {
            try encode(name, forKey: provider)
            try encodeIfPresent(scorer.uncertainty?.rawValue, forKey: uncertainty)
            if scorer.uncertainty == .samples { try encode(scorer.samples, forKey: samples) }
        }
    }
}

extension KeyedDecodingContainer {
    /// `provider`, refusing `model` beside it (one or the other says who answers); a run's stored
    /// config (the fingerprint's) keeps both, and the provider decides.
    func decodeExclusiveProvider(model: Key, provider: Key, in decoder: any Decoder) throws -> String? {
        guard let name = try decodeIfPresent(String.self, forKey: provider) else { return nil }
        if contains(model) && decoder.userInfo[PipelineConfig.storedKey] as? Bool != true {
            throw DecodingError.dataCorruptedError(
                forKey: provider, in: self,
                debugDescription: "and 'model' are both set; give a local model or a provider, not both")
        }
        return name
    }

    /// One of a string enum's values, with an error that lists the allowed ones.
    func decodeChoice<Choice: RawRepresentable & CaseIterable>(_ type: Choice.Type, forKey key: Key) throws -> Choice?
    where Choice.RawValue == String {
        guard let text = try decodeIfPresent(String.self, forKey: key) else { return nil }
        guard let choice = Choice(rawValue: text) else {
            throw DecodingError.dataCorruptedError(
                forKey: key, in: self,
                debugDescription:
                    "is '\(text)', expected one of \(Choice.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return choice
    }
}
