import Foundation

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

/// Money spent over every provider of a run, against an optional budget. Synchronous, so a
/// progress line can read it.
public final class SpendLedger: @unchecked Sendable {
    public let budget: Double?
    private var total: Double
    private let lock = NSLock()

    /// `spent`: what earlier invocations of the run already spent.
    public init(budget: Double?, spent: Double = 0) {
        self.budget = budget
        total = spent
    }

    public var spent: Double {
        lock.lock()
        defer { lock.unlock() }
        return total
    }

    func add(_ cost: Double) {
        lock.lock()
        defer { lock.unlock() }
        total += cost
    }

    /// Throws once the budget is used up: no new request may start.
    func check() throws {
        let spent = self.spent
        if let budget, spent >= budget { throw ProviderError.budgetExhausted(spent: spent, budget: budget) }
    }
}
