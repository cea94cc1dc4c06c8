public import CJEInference
public import Foundation

/// A deterministic stand-in for a local model engine, for the fast test tier: no model file, no
/// llama.cpp, microseconds per request. It keeps the contract the pipeline relies on:
///
/// - a byte-level toy tokenizer (one token per UTF-8 byte, a few role tokens), so a response's
///   text and its tokens map one to one;
/// - a pseudo log probability for every (history, token, temperature): a pure function, so the
///   same request scores the same bits alone or in any batch, and teacher forcing the tokens a
///   generation sampled reproduces its sampled log probs exactly;
/// - generation seeded by the request's seed alone.
///
/// Faults are injected by marker text: a request whose context contains a marker of `faults`
/// fails (each marker as many times as its count), so tests drive failures through prompts.
/// With `drifts`, a request scored alone differs from the same request in a batch: an engine
/// that is not batch-invariant, which the validate audit must catch.
public final class FakeEngine: TextEngine, Sendable {
    public let modelInfo: ModelInfo
    /// Tokens one sequence may hold (context and response), as a real engine's limit.
    public let sequenceContext: Int
    private let state: LockedValue<State>

    struct State {
        var faults: [String: Int]
        var drifts: Bool
        var counts = Counts()
        var afterEach: (@Sendable () -> Void)?
    }

    /// Requests the engine has worked, by kind.
    public struct Counts: Sendable, Hashable {
        public var generated = 0
        public var scored = 0
        public var continuations = 0
    }

    /// The special tokens; byte b is token `byteBase + b`.
    public enum Special {
        public static let system: TokenID = 1
        public static let user: TokenID = 2
        public static let assistant: TokenID = 3
        public static let endOfTurn: TokenID = 4
        public static let byteBase: TokenID = 8
    }

    public init(
        sha256: String = String(repeating: "f", count: 64), name: String = "fake-model", sequenceContext: Int = 2048,
        faults: [String: Int] = [:], drifts: Bool = false
    ) {
        modelInfo = ModelInfo(
            path: "/fake/\(name).gguf", sha256: sha256, architecture: "fake", name: name, parameterCount: 1,
            vocabularySize: Int(Special.byteBase) + 256, contextLength: 8192,
            endOfGenerationTokens: [Special.endOfTurn],
            endOfTurnToken: Special.endOfTurn, hasChatTemplate: true)
        self.sequenceContext = sequenceContext
        state = LockedValue(State(faults: faults, drifts: drifts))
    }

    /// What the engine has worked so far.
    public var counts: Counts { state.current.counts }

    /// Called after each request the engine finishes (a test stops a run there, as a signal would).
    public func afterEach(_ hook: (@Sendable () -> Void)?) { state.access { $0.afterEach = hook } }

    /// Works `requests` one by one as an engine's batch: each result told as it is final, a
    /// stop abandoning the rest.
    private func batch<Request, Value>(
        _ requests: [Request], _ control: BatchControl<Value>, _ work: (Request) -> Result<Value, any Error>
    ) -> [Result<Value, any Error>] {
        var results: [Result<Value, any Error>] = []
        for request in requests {
            if control.stopRequested {
                results.append(.failure(EngineStopped()))
                continue
            }
            let result = work(request)
            results.append(result)
            control.each?(results.count - 1, result)
            state.current.afterEach?()
        }
        return results
    }

    /// Makes requests whose context contains `marker` fail `times` more times.
    public func inject(_ marker: String, times: Int = .max) { state.access { $0.faults[marker] = times } }

    // MARK: Tokenizer

    public func promptTokens(_ messages: [ChatMessage]) throws -> [TokenID] {
        var tokens: [TokenID] = []
        for message in messages {
            switch message.role {
            case .system: tokens.append(Special.system)
            case .user: tokens.append(Special.user)
            case .assistant: tokens.append(Special.assistant)
            }
            tokens += Self.bytes(message.content)
            tokens.append(Special.endOfTurn)
        }
        return tokens + [Special.assistant]
    }

    public func responseTokens(_ text: String) throws -> [TokenID] { Self.bytes(text) }

    static func bytes(_ text: String) -> [TokenID] { text.utf8.map { Special.byteBase + TokenID($0) } }

    static func text(_ tokens: [TokenID]) -> String {
        String(decoding: tokens.filter { $0 >= Special.byteBase }.map { UInt8($0 - Special.byteBase) }, as: UTF8.self)
    }

    // MARK: Numbers

    /// The pseudo log probability of `token` after a history whose hash is `history`: in
    /// [-3.01, -0.01] / T, from the hash alone.
    static func logProb(history: UInt64, token: TokenID, temperature: Double) -> Double {
        var mixer = SplitMix64(seed: history ^ (UInt64(UInt32(bitPattern: token)) &* 0x9E37_79B9_7F4A_7C15))
        let u = mixer.nextUnitInterval()
        return -(0.01 + 3 * u) / temperature
    }

    /// The history hash after `tokens`, from `start`.
    static func hash(_ tokens: [TokenID], from start: UInt64 = 0xcbf2_9ce4_8422_2325) -> UInt64 {
        var h = start
        for token in tokens { h = (h ^ UInt64(UInt32(bitPattern: token))) &* 0x0000_0100_0000_01b3 }
        return h
    }

    /// Log probs of `tokens` after `context` (and the end-of-turn token when asked).
    static func score(context: [TokenID], tokens: [TokenID], endOfTurn: Bool, temperature: Double) -> [Double] {
        var history = hash(context)
        var out: [Double] = []
        for token in tokens + (endOfTurn ? [Special.endOfTurn] : []) {
            out.append(logProb(history: history, token: token, temperature: temperature))
            history = hash([token], from: history)
        }
        return out
    }

    /// The first fault marker in `context`, consuming one of its failures.
    private func fault(_ context: [TokenID]) -> String? {
        let text = Self.text(context)
        return state.access { state in
            guard let marker = state.faults.keys.sorted().first(where: { text.contains($0) && state.faults[$0]! > 0 })
            else { return nil }
            state.faults[marker]! -= 1
            return "injected fault '\(marker)'"
        }
    }

    // MARK: TextEngine

    public func generateBatch(
        _ requests: [GenerationRequest], control: BatchControl<GenerationResult>
    ) async -> [Result<GenerationResult, any Error>] {
        batch(requests, control) { request in
            state.access { $0.counts.generated += 1 }
            return generate(request)
        }
    }

    private func generate(_ request: GenerationRequest) -> Result<GenerationResult, any Error> {
        if let fault = fault(request.context) { return .failure(FakeEngineError(fault)) }
        if request.maxNewTokens < 1 { return .failure(FakeEngineError("max new tokens must be at least 1")) }
        if request.context.count + request.maxNewTokens > sequenceContext {
            return .failure(
                FakeEngineError(
                    "needs \(request.context.count + request.maxNewTokens) tokens but a sequence holds at most \(sequenceContext)",
                    kind: .permanent))
        }
        var rng = SplitMix64(seed: request.seed)
        let length = 1 + Int(rng.next() % UInt64(min(request.maxNewTokens, 48)))
        let alphabet = Array("abcdefghij klmnop qrst uvwxyz ".utf8)
        let tokens = (0..<length).map { _ in
            Special.byteBase + TokenID(alphabet[Int(rng.next() % UInt64(alphabet.count))])
        }
        let finish: FinishReason = length < request.maxNewTokens ? .stop : .length
        let logProbs =
            request.temperature == 0
            ? []
            : Self.score(
                context: request.context, tokens: tokens, endOfTurn: finish == .stop, temperature: request.temperature)
        return .success(
            GenerationResult(
                text: Self.text(tokens), tokens: tokens, finishReason: finish, tokenLogProbs: logProbs,
                stopToken: finish == .stop ? Special.endOfTurn : nil))
    }

    public func scoreBatch(_ requests: [ScoreRequest], control: BatchControl<ScoreResult>) async -> [Result<
        ScoreResult, any Error
    >] {
        let drift = state.current.drifts && requests.count == 1
        return batch(requests, control) { request -> Result<ScoreResult, any Error> in
            state.access { $0.counts.scored += 1 }
            if let fault = fault(request.context) { return .failure(FakeEngineError(fault)) }
            if request.response.isEmpty { return .failure(FakeEngineError("the response is empty")) }
            if let bad = request.temperatures.first(where: { !EngineLimits.isScoringTemperature($0) }) {
                return .failure(FakeEngineError("temperature \(bad) is not a positive number"))
            }
            return .success(
                ScoreResult(
                    scored: request.temperatures.map { t in
                        var logProbs = Self.score(
                            context: request.context, tokens: request.response, endOfTurn: request.appendEndOfTurn,
                            temperature: t)
                        if drift { logProbs[0] += 1e-9 }
                        return SequenceLogProb(temperature: t, tokenLogProbs: logProbs)
                    }))
        }
    }

    public func scoreContinuationsBatch(
        _ requests: [ContinuationRequest], control: BatchControl<ContinuationResult>
    ) async -> [Result<ContinuationResult, any Error>] {
        batch(requests, control) { request -> Result<ContinuationResult, any Error> in
            state.access { $0.counts.continuations += 1 }
            if let fault = fault(request.context) { return .failure(FakeEngineError(fault)) }
            let logProbs = request.continuations.map {
                Self.score(
                    context: request.context, tokens: $0, endOfTurn: request.appendEndOfTurn,
                    temperature: request.temperature
                ).reduce(0, +)
            }
            var greedy: GenerationResult?
            if request.greedyMaxTokens > 0 {
                // The most probable continuation, as a greedy decoder would mostly answer; an
                // item whose context holds "UNPARSEABLE" answers out of range.
                let best = logProbs.firstIndex(of: logProbs.max() ?? 0) ?? 0
                let text = Self.text(request.context).contains("UNPARSEABLE") ? " 3.5 out of 5" : " \(best)"
                let tokens = Array(Self.bytes(text).prefix(request.greedyMaxTokens))
                greedy = GenerationResult(
                    text: Self.text(tokens), tokens: tokens,
                    finishReason: tokens.count < request.greedyMaxTokens ? .stop : .length, tokenLogProbs: [])
            }
            return .success(ContinuationResult(logProbs: logProbs, greedy: greedy))
        }
    }
}

/// A failure the fake engine was told to produce (transient), or a request too long for a
/// sequence (permanent, as the real engine's).
public struct FakeEngineError: LocalizedError, ClassifiedError, Hashable {
    public var message: String
    public var failureKind: FailureKind
    public init(_ message: String, kind: FailureKind = .transient) {
        self.message = message
        failureKind = kind
    }
    public var errorDescription: String? { message }
}
