public import CJEInference
public import CJEProviders
import Foundation

/// A provider for the fast tier: answers each call with `respond` (which may throw the errors a
/// real client throws: `ProviderError.unauthorized`, `.exhausted`, ...), keeps every call, counts
/// usage as a client does, and charges `costPerCall` to the run's ledger (refusing, as the real
/// client does, once the budget is spent).
public final class FakeProvider: ChatProvider, Sendable {
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
    private let state = LockedValue(State())

    private struct State {
        var made: [Call] = []
        var counted = ProviderUsage()
        var ledger: SpendLedger?
    }

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
        state.update { $0.ledger = ledger }
        return self
    }

    public var calls: [Call] { state.current.made }

    public func batchSize(atLeast minimum: Int) -> Int { max(minimum, 4 * slots) }

    public func chat(
        _ messages: [ChatMessage], temperature: Double, maxTokens: Int, seed: UInt64?, topLogprobs: Int?
    ) async throws -> ChatCompletion {
        try state.current.ledger?.check()
        let call = Call(
            messages: messages, temperature: temperature, maxTokens: maxTokens, seed: seed, topLogprobs: topLogprobs)
        state.update {
            $0.made.append(call)
            $0.counted.calls += 1
            $0.counted.attempts += 1
        }
        do {
            let completion = try respond(call)
            state.update {
                $0.counted.inputTokens += completion.promptTokens
                $0.counted.outputTokens += completion.completionTokens
                $0.counted.cost += costPerCall
            }
            .ledger?.add(costPerCall)
            return completion
        } catch {
            state.update { $0.counted.failedCalls += 1 }
            throw error
        }
    }

    public var usage: ProviderUsage { get async { state.current.counted } }
}
