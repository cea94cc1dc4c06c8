public import CJEInference

extension LlamaEngine: TextEngine {
    public var modelInfo: ModelInfo { model.info }

    public func promptTokens(_ messages: [ChatMessage]) throws -> [TokenID] {
        try model.promptTokens(messages)
    }

    public func responseTokens(_ text: String) throws -> [TokenID] {
        try model.tokenize(response: text)
    }

    public func generateBatch(
        _ requests: [GenerationRequest], progress: (@Sendable (Int) -> Void)?
    ) async -> [Result<GenerationResult, any Error>] {
        await generate(requests, progress: progress).map { $0.mapError { $0 as any Error } }
    }

    public func scoreBatch(_ requests: [ScoreRequest]) async -> [Result<ScoreResult, any Error>] {
        await score(requests).map { $0.mapError { $0 as any Error } }
    }

    public func scoreContinuationsBatch(_ requests: [ContinuationRequest]) async -> [Result<
        ContinuationResult, any Error
    >] {
        await scoreContinuations(requests).map { $0.mapError { $0 as any Error } }
    }
}
