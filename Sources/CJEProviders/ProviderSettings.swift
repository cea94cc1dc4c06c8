import Foundation

/// One OpenAI-compatible provider: where it is, how to authenticate, how hard to push it and
/// what it costs. The key itself is never stored: only the name of the variable holding it.
public struct ProviderSettings: Sendable, Hashable {
    /// Base URLs such as "https://api.openai.com/v1" or "http://127.0.0.1:8080/v1"; requests
    /// are spread over them.
    public var baseURLs: [String]
    public var model: String
    /// Name of the environment variable that holds the API key; nil for a keyless server.
    public var apiKeyEnv: String?
    public var maxConcurrent: Int = 4
    public var requestsPerMinute: Int?
    public var tokensPerMinute: Int?
    /// Prices in currency units per million tokens.
    public var inputPricePerMillion: Double = 0
    public var outputPricePerMillion: Double = 0
    /// Attempts per request, the backoff between them, and two minutes an attempt.
    public var retry = RetryPolicy(attempts: 6, timeoutSeconds: 120)
    /// An endpoint with this many consecutive failures rests for `restSeconds`.
    public var failuresBeforeRest: Int = 3
    public var restSeconds: Double = 30

    /// How many items a stage should hand over at once to keep every slot busy between its
    /// journal writes: four per request in flight, and at least `minimum`.
    public func batchSize(atLeast minimum: Int) -> Int { max(minimum, 4 * maxConcurrent) }

    public init(baseURLs: [String], model: String, apiKeyEnv: String? = "OPENAI_API_KEY") {
        self.baseURLs = baseURLs
        self.model = model
        self.apiKeyEnv = apiKeyEnv
    }
}
