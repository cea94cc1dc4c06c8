public import CJEProviders
public import Foundation

/// An OpenAI-compatible provider under `providers:` (a hosted API, or a vLLM / SGLang /
/// llama-server fleet). Only the *name* of the key's environment variable is configured.
public struct ProviderConfig: Codable, Sendable, Hashable {
    /// One or more base URLs ending in `/v1`; requests go to the one with the fewest in flight.
    public var baseURLs: [String]
    /// The model name the endpoint expects.
    public var model: String
    /// The environment variable holding the key; "none" for a keyless server.
    public var apiKeyEnv: String = "OPENAI_API_KEY"
    public var timeoutSeconds: Double = 120
    public var maxConcurrent: Int = 4
    public var requestsPerMinute: Int?
    public var tokensPerMinute: Int?
    /// Price per million input and output tokens (any currency; the budget uses the same one).
    public var inputPricePerMillion: Double = 0
    public var outputPricePerMillion: Double = 0
    /// Attempts per request on retryable failures.
    public var maxAttempts: Int = 6
    /// How many alternatives per token to ask for when a judge reads its score distribution
    /// from `top_logprobs` (OpenAI allows at most 20).
    public var topLogprobs: Int = 20
    /// The endpoint continues a final assistant message (llama-server and vLLM do; OpenAI does
    /// not). Lets a judge ask what follows "1" when a tokenizer writes 10 as "1" + "0".
    public var prefill: Bool = false

    public init(baseURLs: [String], model: String) {
        self.baseURLs = baseURLs
        self.model = model
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case model, prefill
        case baseURL = "base_url"
        case baseURLs = "base_urls"
        case apiKeyEnv = "api_key_env"
        case timeoutSeconds = "timeout"
        case maxConcurrent = "max_concurrent"
        case requestsPerMinute = "requests_per_minute"
        case tokensPerMinute = "tokens_per_minute"
        case inputPricePerMillion = "input_price_per_million"
        case outputPricePerMillion = "output_price_per_million"
        case maxAttempts = "max_attempts"
        case topLogprobs = "top_logprobs"
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let one = try c.decodeIfPresent(String.self, forKey: .baseURL)
        let many = try c.decodeIfPresent([String].self, forKey: .baseURLs)
        if one != nil && many != nil {
            throw DecodingError.dataCorruptedError(
                forKey: .baseURLs, in: c, debugDescription: "give either base_url or base_urls, not both")
        }
        guard let urls = many ?? one.map({ [$0] }), !urls.isEmpty else {
            throw DecodingError.keyNotFound(
                CodingKeys.baseURLs, .init(codingPath: c.codingPath, debugDescription: "base_url(s) is required"))
        }
        baseURLs = urls
        model = try c.decode(String.self, forKey: .model)
        apiKeyEnv = try c.decodeIfPresent(String.self, forKey: .apiKeyEnv) ?? apiKeyEnv
        timeoutSeconds = try c.decodeIfPresent(Double.self, forKey: .timeoutSeconds) ?? timeoutSeconds
        maxConcurrent = try c.decodeIfPresent(Int.self, forKey: .maxConcurrent) ?? maxConcurrent
        requestsPerMinute = try c.decodeIfPresent(Int.self, forKey: .requestsPerMinute)
        tokensPerMinute = try c.decodeIfPresent(Int.self, forKey: .tokensPerMinute)
        inputPricePerMillion =
            try c.decodeIfPresent(Double.self, forKey: .inputPricePerMillion) ?? inputPricePerMillion
        outputPricePerMillion =
            try c.decodeIfPresent(Double.self, forKey: .outputPricePerMillion) ?? outputPricePerMillion
        maxAttempts = try c.decodeIfPresent(Int.self, forKey: .maxAttempts) ?? maxAttempts
        topLogprobs = try c.decodeIfPresent(Int.self, forKey: .topLogprobs) ?? topLogprobs
        prefill = try c.decodeIfPresent(Bool.self, forKey: .prefill) ?? prefill
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(baseURLs, forKey: .baseURLs)
        try c.encode(model, forKey: .model)
        try c.encode(apiKeyEnv, forKey: .apiKeyEnv)
        try c.encode(timeoutSeconds, forKey: .timeoutSeconds)
        try c.encode(maxConcurrent, forKey: .maxConcurrent)
        try c.encodeIfPresent(requestsPerMinute, forKey: .requestsPerMinute)
        try c.encodeIfPresent(tokensPerMinute, forKey: .tokensPerMinute)
        try c.encode(inputPricePerMillion, forKey: .inputPricePerMillion)
        try c.encode(outputPricePerMillion, forKey: .outputPricePerMillion)
        try c.encode(maxAttempts, forKey: .maxAttempts)
        try c.encode(topLogprobs, forKey: .topLogprobs)
        try c.encode(prefill, forKey: .prefill)
    }

    /// What decides a number: the model and how its scores are read. Where it runs, how hard
    /// it is pushed and what it costs do not (so a run may add a server and resume).
    var fingerprinted: ProviderConfig {
        var stable = ProviderConfig(baseURLs: [], model: model)
        stable.topLogprobs = topLogprobs
        stable.prefill = prefill
        return stable
    }

    /// The client's settings.
    public var settings: ProviderSettings {
        var settings = ProviderSettings(
            baseURLs: baseURLs, model: model, apiKeyEnv: apiKeyEnv.lowercased() == "none" ? nil : apiKeyEnv)
        settings.timeoutSeconds = timeoutSeconds
        settings.maxConcurrent = maxConcurrent
        settings.requestsPerMinute = requestsPerMinute
        settings.tokensPerMinute = tokensPerMinute
        settings.inputPricePerMillion = inputPricePerMillion
        settings.outputPricePerMillion = outputPricePerMillion
        settings.maxAttempts = maxAttempts
        return settings
    }

    func validate(_ key: String, fail: (String, String) -> ConfigError) throws {
        for (i, url) in baseURLs.enumerated() {
            guard let parsed = URL(string: url), ["http", "https"].contains(parsed.scheme ?? ""), parsed.host != nil
            else {
                throw fail("\(key).base_urls[\(i)]", "must be an http(s) URL such as https://api.openai.com/v1")
            }
        }
        if model.isEmpty { throw fail(key + ".model", "must not be empty") }
        if !(timeoutSeconds > 0) { throw fail(key + ".timeout", "must be > 0 seconds") }
        if maxConcurrent < 1 { throw fail(key + ".max_concurrent", "must be at least 1") }
        if requestsPerMinute.map({ $0 < 1 }) ?? false { throw fail(key + ".requests_per_minute", "must be >= 1") }
        if tokensPerMinute.map({ $0 < 1 }) ?? false { throw fail(key + ".tokens_per_minute", "must be >= 1") }
        if inputPricePerMillion < 0 || outputPricePerMillion < 0 {
            throw fail(key + ".input/output_price_per_million", "must be >= 0")
        }
        if maxAttempts < 1 { throw fail(key + ".max_attempts", "must be at least 1") }
        if !(1...20).contains(topLogprobs) { throw fail(key + ".top_logprobs", "must be between 1 and 20") }
    }
}

/// Where a judge's score distribution comes from when the judge is a provider.
public enum UncertaintyMethod: String, Codable, Sendable, Hashable, CaseIterable {
    /// The endpoint's `top_logprobs` over the score tokens (a record without them fails).
    case topLogprobs = "top_logprobs"
    /// The judge states a 95% interval; variance = ((hi - lo) / 3.92 / 10)^2.
    case confidenceInterval = "confidence_interval"
    /// `samples` answers at temperature 1; their mean and variance.
    case samples
}
