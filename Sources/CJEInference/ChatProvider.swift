import Foundation

/// What the pipeline needs from a hosted model (an OpenAI-compatible provider): chat
/// completions, how many items keep its request slots busy, and what it was asked so far. The
/// pipeline sees providers only through this protocol, as it sees local engines through
/// `TextEngine`; `CJEProviders.OpenAIClient` is the real one, `CJETestSupport.FakeProvider` the
/// fast tier's.
public protocol ChatProvider: Sendable {
    /// The provider's model, as configured.
    var model: String { get }

    /// Items a stage should hand over at once to keep every request slot busy, at least `minimum`.
    func batchSize(atLeast minimum: Int) -> Int

    /// One chat completion of `messages`. With `topLogprobs`, the answer carries each token's log
    /// prob and that many alternatives. Retryable failures are retried inside; the error thrown
    /// is the last word, and says its `FailureKind` (a refused key or a spent budget is `.fatal`).
    func chat(
        _ messages: [ChatMessage], temperature: Double, maxTokens: Int, seed: UInt64?, topLogprobs: Int?
    ) async throws -> ChatCompletion

    /// What this provider was asked and what it cost, so far.
    var usage: ProviderUsage { get async }
}

extension ChatProvider {
    /// A completion without top log probs.
    public func chat(
        _ messages: [ChatMessage], temperature: Double, maxTokens: Int, seed: UInt64? = nil
    ) async throws -> ChatCompletion {
        try await chat(messages, temperature: temperature, maxTokens: maxTokens, seed: seed, topLogprobs: nil)
    }

    /// A completion with top log probs (nil: none), unseeded.
    public func chat(
        _ messages: [ChatMessage], temperature: Double, maxTokens: Int, topLogprobs: Int?
    ) async throws -> ChatCompletion {
        try await chat(messages, temperature: temperature, maxTokens: maxTokens, seed: nil, topLogprobs: topLogprobs)
    }
}

/// What a chat completion returned (the first choice).
public struct ChatCompletion: Sendable, Hashable {
    public struct TopToken: Sendable, Hashable, Decodable {
        public var token: String
        public var logprob: Double

        public init(token: String, logprob: Double) {
            self.token = token
            self.logprob = logprob
        }
    }

    public struct TokenLogprob: Sendable, Hashable, Decodable {
        public var token: String
        public var logprob: Double
        public var topLogprobs: [TopToken]

        enum CodingKeys: String, CodingKey {
            case token, logprob
            case topLogprobs = "top_logprobs"
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            token = try c.decode(String.self, forKey: .token)
            logprob = try c.decode(Double.self, forKey: .logprob)
            topLogprobs = try c.decodeIfPresent([TopToken].self, forKey: .topLogprobs) ?? []
        }

        public init(token: String, logprob: Double, topLogprobs: [TopToken]) {
            self.token = token
            self.logprob = logprob
            self.topLogprobs = topLogprobs
        }
    }

    public var text: String
    /// "stop", "length", ... as the provider said.
    public var finishReason: String?
    public var promptTokens: Int
    public var completionTokens: Int
    /// Per generated token, when log probs were asked for and returned.
    public var logprobs: [TokenLogprob]?
    /// The model name the provider reported.
    public var model: String?
    /// The backend configuration the provider reported (`system_fingerprint`), when it did.
    public var systemFingerprint: String?

    public init(
        text: String, finishReason: String? = "stop", promptTokens: Int = 0, completionTokens: Int = 0,
        logprobs: [TokenLogprob]? = nil, model: String? = nil, systemFingerprint: String? = nil
    ) {
        self.text = text
        self.finishReason = finishReason
        self.promptTokens = promptTokens
        self.completionTokens = completionTokens
        self.logprobs = logprobs
        self.model = model
        self.systemFingerprint = systemFingerprint
    }
}

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

extension ProviderUsage {
    /// The sum of two usages (e.g. a stage's earlier invocations and this one).
    public static func + (a: ProviderUsage, b: ProviderUsage) -> ProviderUsage {
        var sum = a
        sum.calls += b.calls
        sum.attempts += b.attempts
        sum.retriedBy.merge(b.retriedBy, uniquingKeysWith: +)
        sum.cacheHits += b.cacheHits
        sum.failedCalls += b.failedCalls
        sum.inputTokens += b.inputTokens
        sum.outputTokens += b.outputTokens
        sum.cost += b.cost
        sum.perEndpoint.merge(b.perEndpoint, uniquingKeysWith: +)
        return sum
    }

    /// What happened between `earlier` and this (both from the same client).
    public func since(_ earlier: ProviderUsage) -> ProviderUsage {
        var delta = self
        delta.calls -= earlier.calls
        delta.attempts -= earlier.attempts
        delta.retriedBy = retriedBy.merging(earlier.retriedBy.mapValues { -$0 }, uniquingKeysWith: +)
            .filter { $0.value != 0 }
        delta.cacheHits -= earlier.cacheHits
        delta.failedCalls -= earlier.failedCalls
        delta.inputTokens -= earlier.inputTokens
        delta.outputTokens -= earlier.outputTokens
        delta.cost -= earlier.cost
        delta.perEndpoint = perEndpoint.merging(earlier.perEndpoint.mapValues { -$0 }, uniquingKeysWith: +)
            .filter { $0.value != 0 }
        return delta
    }

    /// "120 calls (3 retried attempts, 4 from cache, 0 failed), 45,210 in / 880 out tokens, 0.0132 spent"
    public var summary: String {
        var text = "\(calls) calls (\(retries) retried attempts, \(cacheHits) from cache, \(failedCalls) failed)"
        text += ", \(inputTokens) in / \(outputTokens) out tokens"
        text += String(format: ", %.4f spent", cost)
        return text
    }
}
