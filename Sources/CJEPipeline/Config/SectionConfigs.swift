/// Where prompts come from and which are kept.
public struct PromptsConfig: Codable, Sendable, Hashable {
    /// "builtin" (30 prompts written for this project), the path of an Arena / prompt file, or
    /// "hf:<owner>/<dataset>" for the Hugging Face datasets-server rows API.
    public var source: String = "builtin"
    public var englishOnly: Bool = true
    public var maxModerationScore: Double?
    /// For "hf:" sources: the dataset's config and split, the server, and a cap on rows read.
    public var hfConfig: String = "default"
    public var hfSplit: String = "train"
    public var hfEndpoint: String = "https://datasets-server.huggingface.co"
    public var maxRows: Int?

    public init() {}

    /// The dataset of an "hf:" source.
    public var huggingFaceDataset: String? { source.hasPrefix("hf:") ? String(source.dropFirst(3)) : nil }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case source
        case englishOnly = "english_only"
        case maxModerationScore = "max_moderation_score"
        case hfConfig = "hf_config"
        case hfSplit = "hf_split"
        case hfEndpoint = "hf_endpoint"
        case maxRows = "max_rows"
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        source = try c.decodeIfPresent(String.self, forKey: .source) ?? source
        englishOnly = try c.decodeIfPresent(Bool.self, forKey: .englishOnly) ?? englishOnly
        maxModerationScore = try c.decodeIfPresent(Double.self, forKey: .maxModerationScore)
        hfConfig = try c.decodeIfPresent(String.self, forKey: .hfConfig) ?? hfConfig
        hfSplit = try c.decodeIfPresent(String.self, forKey: .hfSplit) ?? hfSplit
        hfEndpoint = try c.decodeIfPresent(String.self, forKey: .hfEndpoint) ?? hfEndpoint
        maxRows = try c.decodeIfPresent(Int.self, forKey: .maxRows)
    }

    /// The three original keys always; the "hf:" keys only for such a source (so runs made
    /// before they existed keep their fingerprint).
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(source, forKey: .source)
        try c.encode(englishOnly, forKey: .englishOnly)
        try c.encodeIfPresent(maxModerationScore, forKey: .maxModerationScore)
        guard huggingFaceDataset != nil else { return }
        try c.encode(hfConfig, forKey: .hfConfig)
        try c.encode(hfSplit, forKey: .hfSplit)
        try c.encodeIfPresent(maxRows, forKey: .maxRows)
    }
}

/// A local GGUF model.
public struct ModelConfig: Codable, Sendable, Hashable {
    /// The GGUF file; for "default", absent means the SmolLM2 demo model.
    public var path: String?
    /// A chat template for models that have none (e.g. "chatml").
    public var chatTemplate: String?

    public init(path: String? = nil, chatTemplate: String? = nil) {
        self.path = path
        self.chatTemplate = chatTemplate
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case path
        case chatTemplate = "chat_template"
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        path = try c.decodeIfPresent(String.self, forKey: .path)
        chatTemplate = try c.decodeIfPresent(String.self, forKey: .chatTemplate)
    }
}

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
        case name, model, provider, temperature
        case systemPrompt = "system_prompt"
        case maxTokens = "max_tokens"
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        provider = try c.decodeExclusiveProvider(model: .model, provider: .provider)
        model = try c.decodeIfPresent(String.self, forKey: .model) ?? model
        systemPrompt = try c.decode(String.self, forKey: .systemPrompt)
        temperature = try c.decodeIfPresent(Double.self, forKey: .temperature) ?? temperature
        maxTokens = try c.decodeIfPresent(Int.self, forKey: .maxTokens) ?? maxTokens
    }
}

/// How a judge's deterministic score is obtained from a local model.
public enum DeterministicRule: String, Codable, Sendable, Hashable, CaseIterable {
    /// The most probable of the eleven answers " 0" ... " 10" (exact, always a valid score).
    case argmax
    /// Greedy decoding, parsed strictly (a small model may answer "3.5 out of 5": null + error).
    case greedy
}

/// Who scores with a rubric (judge or oracle) and how: a local model, or a provider.
public protocol RubricScorerConfig {
    var model: String { get }
    var provider: String? { get }
    /// As configured; nil takes the default for the kind of scorer.
    var deterministicSetting: DeterministicRule? { get }
    var uncertaintySetting: UncertaintyMethod? { get }
    var samples: Int { get }
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

    func decodeUncertainty(forKey key: Key) throws -> UncertaintyMethod? {
        guard let text = try decodeIfPresent(String.self, forKey: key) else { return nil }
        guard let method = UncertaintyMethod(rawValue: text) else {
            throw DecodingError.dataCorruptedError(
                forKey: key, in: self,
                debugDescription:
                    "is '\(text)', expected one of \(UncertaintyMethod.allCases.map(\.rawValue).joined(separator: ", "))"
            )
        }
        return method
    }
}

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
        deterministicSetting = try c.decodeRule(forKey: .deterministicSetting)
        uncertaintySetting = try c.decodeUncertainty(forKey: .uncertaintySetting)
        samples = try c.decodeIfPresent(Int.self, forKey: .samples) ?? samples
    }
}

extension KeyedDecodingContainer {
    /// A `DeterministicRule`, with an error that lists the allowed values.
    func decodeRule(forKey key: Key) throws -> DeterministicRule? {
        guard let text = try decodeIfPresent(String.self, forKey: key) else { return nil }
        guard let rule = DeterministicRule(rawValue: text) else {
            throw DecodingError.dataCorruptedError(
                forKey: key, in: self,
                debugDescription:
                    "is '\(text)', expected one of \(DeterministicRule.allCases.map(\.rawValue).joined(separator: ", "))"
            )
        }
        return rule
    }
}

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

    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable {
        case model, provider, fraction, seed, samples
        case deterministicSetting = "deterministic"
        case uncertaintySetting = "uncertainty"
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        provider = try c.decodeExclusiveProvider(model: .model, provider: .provider)
        model = try c.decodeIfPresent(String.self, forKey: .model) ?? model
        fraction = try c.decodeIfPresent(Double.self, forKey: .fraction) ?? fraction
        seed = try c.decodeIfPresent(UInt64.self, forKey: .seed) ?? seed
        deterministicSetting = try c.decodeRule(forKey: .deterministicSetting)
        uncertaintySetting = try c.decodeUncertainty(forKey: .uncertaintySetting)
        samples = try c.decodeIfPresent(Int.self, forKey: .samples) ?? samples
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encodeScorer(
            self, model: .model, provider: .provider, deterministic: .deterministicSetting,
            uncertainty: .uncertaintySetting, samples: .samples)
        try c.encode(fraction, forKey: .fraction)
        try c.encode(seed, forKey: .seed)
    }
}

/// The local engine's shape: speed and memory only, never results.
public struct EngineConfig: Codable, Sendable, Hashable {
    public var threads: Int?
    public var maxSequences: Int = 8
    public var sequenceContext: Int = 2048

    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable {
        case threads
        case maxSequences = "max_sequences"
        case sequenceContext = "sequence_context"
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        threads = try c.decodeIfPresent(Int.self, forKey: .threads)
        maxSequences = try c.decodeIfPresent(Int.self, forKey: .maxSequences) ?? maxSequences
        sequenceContext = try c.decodeIfPresent(Int.self, forKey: .sequenceContext) ?? sequenceContext
    }
}
