public import CJEInference
public import CJEProviders
import Foundation

/// A provider for the fast tier: answers each call with `respond` (which may throw the errors a
/// real client throws: `ProviderError.unauthorized`, `.exhausted`, ...), keeps every call, counts
/// usage as a client does, and charges `costPerCall` to the run's ledger (refusing, as the real
/// client does, once the budget is spent).
///
/// Invariant for `@unchecked Sendable`: `calls` and `counted` are read and written under `lock`
/// only; the rest is immutable.
public final class FakeProvider: ChatProvider, @unchecked Sendable {
    /// One call, as the pipeline made it.
    public struct Call: Sendable, Hashable {
        public var messages: [ChatMessage]
        public var temperature: Double
        public var maxTokens: Int
        public var seed: UInt64?
        public var topLogprobs: Int?

        /// The text of the last user message.
        public var user: String { messages.last { $0.role == .user }?.content ?? "" }
    }

    public let model: String
    public let slots: Int
    public let costPerCall: Double
    private let respond: @Sendable (Call) throws -> ChatCompletion
    private let lock = NSLock()
    private var made: [Call] = []
    private var counted = ProviderUsage()
    private var ledger: SpendLedger?

    public init(
        model: String = "fake-provider", slots: Int = 2, costPerCall: Double = 0,
        respond: @escaping @Sendable (Call) throws -> ChatCompletion
    ) {
        self.model = model
        self.slots = slots
        self.costPerCall = costPerCall
        self.respond = respond
    }

    /// This provider as the client of the run whose ledger is given (a `ProviderHub.Factory`'s part).
    public func charging(_ ledger: SpendLedger) -> FakeProvider {
        lock.withLock { self.ledger = ledger }
        return self
    }

    public var calls: [Call] { lock.withLock { made } }

    public func batchSize(atLeast minimum: Int) -> Int { max(minimum, 4 * slots) }

    public func chat(
        _ messages: [ChatMessage], temperature: Double, maxTokens: Int, seed: UInt64?, topLogprobs: Int?
    ) async throws -> ChatCompletion {
        try lock.withLock { ledger }?.check()
        let call = Call(
            messages: messages, temperature: temperature, maxTokens: maxTokens, seed: seed, topLogprobs: topLogprobs)
        lock.withLock {
            made.append(call)
            counted.calls += 1
            counted.attempts += 1
        }
        do {
            let completion = try respond(call)
            let ledger = lock.withLock {
                counted.inputTokens += completion.promptTokens
                counted.outputTokens += completion.completionTokens
                counted.cost += costPerCall
                return self.ledger
            }
            ledger?.add(costPerCall)
            return completion
        } catch {
            lock.withLock { counted.failedCalls += 1 }
            throw error
        }
    }

    public var usage: ProviderUsage { get async { lock.withLock { counted } } }
}
