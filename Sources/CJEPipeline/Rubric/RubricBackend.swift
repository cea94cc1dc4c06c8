import CJEInference

/// Scores (prompt, response) items with a rubric: a local model or a provider.
protocol RubricBackend: Sendable {
    /// The judge's model, for the records.
    var modelName: String { get }
    /// Items handed to the scorer at once (each is journaled as it finishes).
    var batchSize: Int { get }
    /// One value per item, in order; nil where the batch stopped before the item. `finished` is
    /// told each value as it is final; once `stop` is set, no new item is taken.
    func score(
        _ items: [RubricItem], stop: StopFlag, finished: @escaping @Sendable (Int, JudgeValue) -> Void
    ) async -> BatchResult<JudgeValue>
}

extension StageContext {
    /// The rubric scorer a judge or oracle config asks for: a provider, or a local model.
    /// `seed` seeds a provider's sampled answers (`uncertainty: samples`).
    func rubricBackend(_ scorer: LabellerConfig, rubric: Rubric, seed: UInt64) throws -> any RubricBackend {
        guard let name = scorer.provider else {
            return LocalRubricScorer(
                rubric: rubric, engine: try engine(scorer.model), maxTokens: scorer.maxTokens,
                rule: scorer.deterministic)
        }
        return ProviderRubricScorer(
            rubric: rubric, client: try providers.client(name), provider: try providers.config(name),
            maxTokens: scorer.maxTokens, method: scorer.uncertainty ?? .topLogprobs, samples: scorer.samples,
            seed: seed)
    }
}
