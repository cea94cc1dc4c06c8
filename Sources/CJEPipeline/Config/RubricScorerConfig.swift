/// Who scores with a rubric (judge or oracle) and how: a local model, or a provider.
public protocol RubricScorerConfig {
    var model: String { get }
    var provider: String? { get }
    /// As configured; nil takes the default for the kind of scorer.
    var deterministicSetting: DeterministicRule? { get }
    var uncertaintySetting: UncertaintyMethod? { get }
    var samples: Int { get }
    /// Longest greedy answer (decoded and kept for audits under either rule).
    var maxTokens: Int { get }
}

extension RubricScorerConfig {
    /// `argmax` for a local model (every answer's probability is known), `greedy` (temperature
    /// 0, parsed strictly) for a provider.
    public var deterministic: DeterministicRule { deterministicSetting ?? (provider == nil ? .argmax : .greedy) }
    /// A provider judge's distribution source; nil for a local model (exact distribution).
    public var uncertainty: UncertaintyMethod? { provider == nil ? nil : uncertaintySetting ?? .topLogprobs }

    func validateScorer(_ key: String, config: PipelineConfig, fail: (String, String) -> ConfigError) throws {
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
        _ scorer: some RubricScorerConfig, model: Key, provider: Key, deterministic: Key, uncertainty: Key,
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
    /// `provider`, refusing `model` beside it (one or the other says who answers).
    func decodeExclusiveProvider(model: Key, provider: Key) throws -> String? {
        guard let name = try decodeIfPresent(String.self, forKey: provider) else { return nil }
        if contains(model) {
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
