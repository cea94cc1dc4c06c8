public import CJEInference
import Foundation

/// A provider for the fast tier that also teacher-forces over token ids, as a vLLM server does,
/// on the fake engine's tokenizer and numbers: its template ids are the fake engine's prompt
/// tokens, and its prompt log probs are the fake engine's at temperature 1, so a value it gives
/// equals the engine's own. Chat calls go to `base`. Faults: `echoOther` echoes the prompt with
/// its last id changed; `withoutLogprobs` answers without prompt log probs.
public final class FakeForcingProvider: TeacherForcingProvider, Sendable {
    public let base: FakeProvider
    public let echoOther: Bool
    public let withoutLogprobs: Bool
    /// Applies a request's temperature to its prompt log probs (a server under the probe).
    public let appliesTemperature: Bool
    /// The model id its answers carry.
    public let servedModel: String
    private let forced = LockedValue(0)

    public init(
        base: FakeProvider, echoOther: Bool = false, withoutLogprobs: Bool = false, appliesTemperature: Bool = false,
        servedModel: String = "fake-served"
    ) {
        self.appliesTemperature = appliesTemperature
        self.base = base
        self.echoOther = echoOther
        self.withoutLogprobs = withoutLogprobs
        self.servedModel = servedModel
    }

    /// Prompt log-prob requests answered so far.
    public var forcedCalls: Int { forced.current }

    public var model: String { base.model }
    public var usage: ProviderUsage { get async { await base.usage } }
    public func batchSize(atLeast minimum: Int) -> Int { base.batchSize(atLeast: minimum) }

    public func chat(
        _ messages: [ChatMessage], temperature: Double, maxTokens: Int, seed: UInt64?, topLogprobs: Int?
    ) async throws -> ChatCompletion {
        var answer = try await base.chat(
            messages, temperature: temperature, maxTokens: maxTokens, seed: seed, topLogprobs: topLogprobs)
        answer.model = answer.model ?? servedModel
        return answer
    }

    public func templateTokens(_ messages: [ChatMessage], addGenerationPrompt: Bool) async throws -> [TokenID] {
        let engine = FakeEngine()
        if !addGenerationPrompt, let last = messages.last, last.role == .assistant {
            return try engine.promptTokens(Array(messages.dropLast())) + FakeEngine.bytes(last.content)
                + [FakeEngine.Special.endOfTurn]
        }
        return try engine.promptTokens(messages)
    }

    public func textTokens(_ text: String) async throws -> [TokenID] { FakeEngine.bytes(text) }

    public func detokenize(_ ids: [TokenID]) async throws -> String { FakeEngine.text(ids) }

    public func promptLogprobs(_ ids: [TokenID], temperature: Double?, alternatives: Int, cacheTag: String)
        async throws -> PromptLogprobs
    {
        forced.update { $0 += 1 }
        var echoed = ids
        if echoOther, let last = echoed.last { echoed[echoed.count - 1] = last + 1 }
        let t = appliesTemperature ? temperature ?? 1 : 1
        var logprobs: [Double?] = [nil]
        var listed: [[TokenID: Double]] = [[:]]
        if !withoutLogprobs, !ids.isEmpty {
            logprobs += FakeEngine.score(
                context: [ids[0]], tokens: Array(ids.dropFirst()), endOfTurn: false, temperature: t)
            // The fake's "alternatives": the same pseudo log probs of the next few byte tokens.
            for k in 1..<ids.count {
                let history = FakeEngine.hash(Array(ids[..<k]))
                var row: [TokenID: Double] = [:]
                for token in [ids[k]] + (0..<TokenID(alternatives)).map({ FakeEngine.Special.byteBase + 65 + $0 }) {
                    row[token] = FakeEngine.logProb(history: history, token: token, temperature: t)
                }
                listed.append(row)
            }
        }
        return PromptLogprobs(
            tokenIds: echoed, logprobs: withoutLogprobs ? [] : logprobs, listed: withoutLogprobs ? [] : listed,
            model: servedModel)
    }
}
