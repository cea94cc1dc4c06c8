/// Where prompts come from and which are kept.
public struct PromptsConfig: Codable, Sendable, Hashable {
    /// "builtin" (30 prompts written for this project) or the path of an Arena / prompt file.
    public var source: String = "builtin"
    public var englishOnly: Bool = true
    public var maxModerationScore: Double?

    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable {
        case source
        case englishOnly = "english_only"
        case maxModerationScore = "max_moderation_score"
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        source = try c.decodeIfPresent(String.self, forKey: .source) ?? source
        englishOnly = try c.decodeIfPresent(Bool.self, forKey: .englishOnly) ?? englishOnly
        maxModerationScore = try c.decodeIfPresent(Double.self, forKey: .maxModerationScore)
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
    public var model: String = "default"
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
        case name, model, temperature
        case systemPrompt = "system_prompt"
        case maxTokens = "max_tokens"
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
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

/// The LLM judge.
public struct JudgeConfig: Codable, Sendable, Hashable {
    public var model: String = "default"
    public var maxTokens: Int = 8
    public var deterministic: DeterministicRule = .argmax

    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable {
        case model, deterministic
        case maxTokens = "max_tokens"
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        model = try c.decodeIfPresent(String.self, forKey: .model) ?? model
        maxTokens = try c.decodeIfPresent(Int.self, forKey: .maxTokens) ?? maxTokens
        deterministic = try c.decodeRule(forKey: .deterministic) ?? deterministic
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
public struct OracleConfig: Codable, Sendable, Hashable {
    public var model: String = "default"
    /// Share of P0 responses (calibration) and of target responses (validation) to label.
    public var fraction: Double = 0.25
    /// Seed of the slice, separate from the run seed so the slice can be redrawn alone.
    public var seed: UInt64 = 7
    public var deterministic: DeterministicRule = .argmax

    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable {
        case model, fraction, seed, deterministic
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        model = try c.decodeIfPresent(String.self, forKey: .model) ?? model
        fraction = try c.decodeIfPresent(Double.self, forKey: .fraction) ?? fraction
        seed = try c.decodeIfPresent(UInt64.self, forKey: .seed) ?? seed
        deterministic = try c.decodeRule(forKey: .deterministic) ?? deterministic
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
