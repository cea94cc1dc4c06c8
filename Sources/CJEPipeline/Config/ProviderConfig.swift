public import CJEProviders
import Foundation

/// An OpenAI-compatible provider under `providers:` (a hosted API, or a vLLM / SGLang /
/// llama-server fleet): the client's settings, with their defaults, plus how a judge reads
/// scores from it. Only the *name* of the key's environment variable is configured.
public struct ProviderConfig: Codable, Sendable, Hashable {
    /// Where it is, how to authenticate (`api_key_env`; "none" for a keyless server), how hard
    /// to push it and what it costs.
    public var settings: ProviderSettings
    /// How many alternatives per token to ask for when a judge reads its score distribution
    /// from `top_logprobs` (OpenAI allows at most 20).
    public var topLogprobs: Int = 20
    /// The endpoint continues a final assistant message (llama-server and vLLM do; OpenAI does
    /// not). Lets a judge ask what follows "1" when a tokenizer writes 10 as "1" + "0".
    public var prefill: Bool = false
    /// The endpoint returns prompt log probs over token ids through this protocol, so the
    /// logprobs stage can teacher-force this provider's policies exactly (at temperature 1).
    /// Nil: it cannot, and its policies are Direct mode only.
    public var teacherForcing: TeacherForcingProtocol?
    /// The endpoint may apply a request's temperature to prompt log probs: policies at T != 1
    /// are allowed on it, and the logprobs stage first probes that it does (the same request at
    /// T and at 1 must differ exactly as log_softmax(z / T) predicts), or stops.
    public var temperatureProbe = false

    public init(baseURLs: [String], model: String) {
        settings = ProviderSettings(baseURLs: baseURLs, model: model)
    }

    /// The model name the endpoint expects.
    public var model: String { settings.model }

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
        case teacherForcing = "teacher_forcing"
        case temperatureProbe = "temperature_probe"
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
        // A run's stored config (its fingerprint) keeps no endpoint: only what decides a number.
        let stored = decoder.userInfo[PipelineConfig.storedKey] as? Bool == true
        guard let urls = many ?? one.map({ [$0] }), !urls.isEmpty || stored else {
            throw DecodingError.keyNotFound(
                CodingKeys.baseURLs, .init(codingPath: c.codingPath, debugDescription: "base_url(s) is required"))
        }
        self.init(baseURLs: urls, model: try c.decode(String.self, forKey: .model))
        if let variable = try c.decodeIfPresent(String.self, forKey: .apiKeyEnv) {
            settings.apiKeyEnv = variable.lowercased() == "none" ? nil : variable
        }
        func read<T: Decodable>(_ key: CodingKeys, into value: inout T) throws {
            if let decoded = try c.decodeIfPresent(T.self, forKey: key) { value = decoded }
        }
        try read(.timeoutSeconds, into: &settings.retry.timeoutSeconds)
        try read(.maxConcurrent, into: &settings.maxConcurrent)
        settings.requestsPerMinute = try c.decodeIfPresent(Int.self, forKey: .requestsPerMinute)
        settings.tokensPerMinute = try c.decodeIfPresent(Int.self, forKey: .tokensPerMinute)
        try read(.inputPricePerMillion, into: &settings.inputPricePerMillion)
        try read(.outputPricePerMillion, into: &settings.outputPricePerMillion)
        try read(.maxAttempts, into: &settings.retry.attempts)
        try read(.topLogprobs, into: &topLogprobs)
        try read(.prefill, into: &prefill)
        teacherForcing = try c.decodeChoice(TeacherForcingProtocol.self, forKey: .teacherForcing)
        try read(.temperatureProbe, into: &temperatureProbe)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(settings.baseURLs, forKey: .baseURLs)
        try c.encode(settings.model, forKey: .model)
        try c.encode(settings.apiKeyEnv ?? "none", forKey: .apiKeyEnv)
        try c.encode(settings.retry.timeoutSeconds, forKey: .timeoutSeconds)
        try c.encode(settings.maxConcurrent, forKey: .maxConcurrent)
        try c.encodeIfPresent(settings.requestsPerMinute, forKey: .requestsPerMinute)
        try c.encodeIfPresent(settings.tokensPerMinute, forKey: .tokensPerMinute)
        try c.encode(settings.inputPricePerMillion, forKey: .inputPricePerMillion)
        try c.encode(settings.outputPricePerMillion, forKey: .outputPricePerMillion)
        try c.encode(settings.retry.attempts, forKey: .maxAttempts)
        try c.encode(topLogprobs, forKey: .topLogprobs)
        try c.encode(prefill, forKey: .prefill)
        try c.encodeIfPresent(teacherForcing, forKey: .teacherForcing)
        if temperatureProbe { try c.encode(true, forKey: .temperatureProbe) }
    }

    /// What decides a number: the model, how its scores are read and how it teacher-forces. Where it runs, how hard
    /// it is pushed and what it costs do not (so a run may add a server and resume).
    var fingerprinted: ProviderConfig {
        var stable = ProviderConfig(baseURLs: [], model: model)
        stable.topLogprobs = topLogprobs
        stable.prefill = prefill
        stable.teacherForcing = teacherForcing
        stable.temperatureProbe = temperatureProbe
        return stable
    }

    func validate(_ key: String, fail: (String, String) -> ConfigError) throws {
        for (i, url) in settings.baseURLs.enumerated() {
            guard let parsed = URL(string: url), ["http", "https"].contains(parsed.scheme ?? ""), parsed.host != nil
            else {
                throw fail("\(key).base_urls[\(i)]", "must be an http(s) URL such as https://api.openai.com/v1")
            }
        }
        if model.isEmpty { throw fail(key + ".model", "must not be empty") }
        if !(settings.retry.timeoutSeconds > 0) { throw fail(key + ".timeout", "must be > 0 seconds") }
        if settings.maxConcurrent < 1 { throw fail(key + ".max_concurrent", "must be at least 1") }
        if settings.requestsPerMinute.map({ $0 < 1 }) ?? false {
            throw fail(key + ".requests_per_minute", "must be >= 1")
        }
        if settings.tokensPerMinute.map({ $0 < 1 }) ?? false { throw fail(key + ".tokens_per_minute", "must be >= 1") }
        if settings.inputPricePerMillion < 0 || settings.outputPricePerMillion < 0 {
            throw fail(key + ".input/output_price_per_million", "must be >= 0")
        }
        if settings.retry.attempts < 1 { throw fail(key + ".max_attempts", "must be at least 1") }
        if !(1...20).contains(topLogprobs) { throw fail(key + ".top_logprobs", "must be between 1 and 20") }
        if let reason = teacherForcing?.unsupported { throw fail(key + ".teacher_forcing", reason) }
        if temperatureProbe && teacherForcing == nil {
            throw fail(key + ".temperature_probe", "needs teacher_forcing: it probes the endpoint's prompt log probs")
        }
    }
}
