/// What one provider was asked and what it cost, for the manifest and the progress line.
public struct ProviderUsage: Sendable, Hashable, Codable {
    /// Calls made by the pipeline (one per item), and HTTP attempts sent for them.
    public var calls = 0
    public var attempts = 0
    /// Attempts that failed and were retried, by cause ("429", "500", "timeout", ...).
    public var retriedBy: [String: Int] = [:]
    /// Calls answered from the on-disk cache (no request, no cost).
    public var cacheHits = 0
    public var failedCalls = 0
    public var inputTokens = 0
    public var outputTokens = 0
    public var cost = 0.0
    /// Requests sent to each base URL.
    public var perEndpoint: [String: Int] = [:]

    public init() {}

    public var retries: Int { retriedBy.values.reduce(0, +) }

    enum CodingKeys: String, CodingKey {
        case calls, attempts, cost
        case retriedBy = "retried_by"
        case cacheHits = "cache_hits"
        case failedCalls = "failed_calls"
        case inputTokens = "input_tokens"
        case outputTokens = "output_tokens"
        case perEndpoint = "per_endpoint"
    }
}

actor UsageCounter {
    private(set) var usage = ProviderUsage()

    func update(_ body: (inout ProviderUsage) -> Void) { body(&usage) }
}
