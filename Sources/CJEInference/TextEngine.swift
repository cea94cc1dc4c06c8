/// What the pipeline needs from a local model engine: chat rendering and tokenization, batched
/// generation and batched teacher forcing. The pipeline sees engines only through this protocol.
public protocol TextEngine: Sendable {
    /// The model behind the engine.
    var modelInfo: ModelInfo { get }
    /// Tokens of a conversation's prompt prefix (rendered with the model's chat template).
    func promptTokens(_ messages: [ChatMessage]) throws -> [TokenID]
    /// Tokens of a response text on its own (special-token text stays text).
    func responseTokens(_ text: String) throws -> [TokenID]
    /// Generates for every request, in request order; `control` is told each result as it is
    /// final and may stop the batch.
    func generateBatch(
        _ requests: [GenerationRequest], control: BatchControl<GenerationResult>
    ) async -> [Result<GenerationResult, any Error>]
    /// Teacher-forces every request, in request order.
    func scoreBatch(_ requests: [ScoreRequest], control: BatchControl<ScoreResult>) async -> [Result<
        ScoreResult, any Error
    >]
    /// Scores alternative continuations of shared contexts, decoding each context once.
    func scoreContinuationsBatch(
        _ requests: [ContinuationRequest], control: BatchControl<ContinuationResult>
    ) async -> [Result<ContinuationResult, any Error>]
    /// Where the engine's time went so far (zeros where an engine does not keep it).
    var timings: EngineTimings { get }
}

extension TextEngine {
    public var timings: EngineTimings { EngineTimings() }

    /// Generates for every request, in request order.
    public func generateBatch(_ requests: [GenerationRequest]) async -> [Result<GenerationResult, any Error>] {
        await generateBatch(requests, control: .none)
    }

    /// Teacher-forces every request, in request order.
    public func scoreBatch(_ requests: [ScoreRequest]) async -> [Result<ScoreResult, any Error>] {
        await scoreBatch(requests, control: .none)
    }

    /// Scores alternative continuations of shared contexts, decoding each context once.
    public func scoreContinuationsBatch(_ requests: [ContinuationRequest]) async -> [Result<
        ContinuationResult, any Error
    >] {
        await scoreContinuationsBatch(requests, control: .none)
    }
}
