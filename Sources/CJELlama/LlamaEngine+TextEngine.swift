public import CJEInference

extension LlamaEngine: TextEngine {
    public var modelInfo: ModelInfo { model.info }

    public func promptTokens(_ messages: [ChatMessage]) throws -> [TokenID] {
        try model.promptTokens(messages, date: chatDate)
    }

    public func responseTokens(_ text: String) throws -> [TokenID] {
        try model.tokenize(response: text)
    }

    public func generateBatch(
        _ requests: [GenerationRequest], control: BatchControl<GenerationResult>
    ) async -> [Result<GenerationResult, any Error>] {
        await generate(requests, control: control).map { $0.mapError(Self.public) }
    }

    public func scoreBatch(_ requests: [ScoreRequest], control: BatchControl<ScoreResult>) async -> [Result<
        ScoreResult, any Error
    >] {
        await score(requests, control: control).map { $0.mapError(Self.public) }
    }

    public func scoreContinuationsBatch(
        _ requests: [ContinuationRequest], control: BatchControl<ContinuationResult>
    ) async -> [Result<ContinuationResult, any Error>] {
        await scoreContinuations(requests, control: control).map { $0.mapError(Self.public) }
    }

    /// An abandoned request is `EngineStopped`, as from any engine.
    private static func `public`(_ error: LlamaError) -> any Error {
        error == .stopped ? EngineStopped() : error
    }
}
