public import CJEInference
import Foundation

/// A 0-10 rubric judge run on a local model, in two ways from one pass over each item:
/// - uncertainty: every answer " 0" ... " 10" (with the end-of-turn token, so the eleven are
///   exclusive) teacher-forced after the shared prompt, giving the exact distribution;
/// - deterministic: the most probable of those answers (`argmax`), or greedy decoding after
///   "Score:" with the answer parsed strictly (`greedy`). The greedy answer is kept either way.
public struct LocalRubricScorer: Sendable {
    public let rubric: Rubric
    public let engine: any TextEngine
    public let maxTokens: Int
    public let rule: DeterministicRule

    public init(rubric: Rubric, engine: any TextEngine, maxTokens: Int, rule: DeterministicRule) {
        self.rubric = rubric
        self.engine = engine
        self.maxTokens = maxTokens
        self.rule = rule
    }

    /// One verdict per item, in order; a failure is in the verdict's errors, never a number.
    /// `finished(k, value)` is told each verdict as it is final; once `stop` is set, the items
    /// not finished are abandoned (their verdicts are failures, and `finished` is not told).
    public func judge(
        _ items: [RubricItem], stop: StopFlag = StopFlag(), finished: (@Sendable (Int, JudgeValue) -> Void)? = nil
    ) async -> [JudgeValue] {
        let blank = JudgeValue(rule: rule)
        let shared = (try? sharedPrefix()) ?? []
        let candidates: Result<[[TokenID]], any Error> = Result {
            try (0...10).map { try engine.responseTokens(" \($0)") }
        }
        // One pass per item: the context is decoded once, then the eleven answers are scored
        // (uncertainty) and the greedy answer decoded (deterministic) from the same cells.
        let values = await engineBatch(
            count: items.count, stop: stop, finished: finished,
            request: { k in
                let context: [TokenID]
                do {
                    let item = items[k]
                    let prompt = try engine.promptTokens(rubric.messages(prompt: item.prompt, response: item.response))
                    context = prompt + (try engine.responseTokens(rubric.answerPrefix))
                } catch {
                    throw ItemFailure(
                        "judge prompt could not be rendered: \(error.localizedDescription)", kind: .permanent)
                }
                let answers: [[TokenID]]
                do {
                    answers = try candidates.get()
                } catch {
                    throw ItemFailure("answers could not be tokenized: \(error.localizedDescription)")
                }
                return ContinuationRequest(
                    context: context, continuations: answers, appendEndOfTurn: true, temperature: 1,
                    greedyMaxTokens: maxTokens, sharedPrefix: Self.commonPrefixLength(context, shared))
            },
            failed: { _, error in
                var value = blank
                value.fail(error)
                return value
            },
            value: { _, result in verdict(blank, result) },
            run: { await engine.scoreContinuationsBatch($0, control: $1) })
        return values.map { $0 ?? blank }
    }

    private func verdict(_ blank: JudgeValue, _ result: Result<ContinuationResult, any Error>) -> JudgeValue {
        var value = blank
        switch result {
        case .success(let result): read(result, into: &value)
        case .failure(let error): value.fail(error)
        }
        return value
    }

    /// The tokens every item's context starts with: the rubric's system prompt, worked examples
    /// and instructions, up to where the item's own text begins (two renderings that differ only
    /// in the item agree up to there).
    public func sharedPrefix() throws -> [TokenID] {
        let one = try engine.promptTokens(rubric.messages(prompt: "A", response: "A"))
        let other = try engine.promptTokens(rubric.messages(prompt: "B", response: "B"))
        return Array(one.prefix(Self.commonPrefixLength(one, other)))
    }

    static func commonPrefixLength(_ a: [TokenID], _ b: [TokenID]) -> Int {
        zip(a, b).prefix { $0 == $1 }.count
    }

    /// The verdict of one item's greedy answer and eleven answer log probs.
    private func read(_ result: ContinuationResult, into value: inout JudgeValue) {
        value.rawAnswer = result.greedy?.text
        if rule == .greedy {
            if let answer = result.greedy {
                // The context ends with the answer prefix: the answer is the number itself.
                value.read(answer: answer.text, parse: Rubric.parse)
            } else {
                value.scoreError = "the engine returned no greedy answer"
            }
        }
        let logps = result.logProbs
        guard let distribution = ScoreDistribution(logProbs: logps) else {
            value.distributionError = "the engine scored \(logps.count) of 11 answers or a non-finite one"
            if rule == .argmax { value.scoreError = value.distributionError }
            return
        }
        if rule == .argmax {
            // The first maximum: ties go to the lower score.
            if let best = logps.max(), let index = logps.firstIndex(of: best) { value.score = Double(index) / 10 }
        }
        value.mean = distribution.mean
        value.variance = distribution.variance
        value.mass = distribution.mass
    }
}

extension LocalRubricScorer: RubricBackend {
    var modelName: String { engine.modelInfo.name ?? "local" }
    /// As many items as the default engine decodes together: the eleven answers and the greedy
    /// answer are decoded for the whole batch at once, a step per token.
    var batchSize: Int { 32 }

    func score(
        _ items: [RubricItem], stop: StopFlag, finished: @escaping @Sendable (Int, JudgeValue) -> Void
    ) async -> BatchResult<JudgeValue> {
        BatchResult(values: await judge(items, stop: stop, finished: finished))
    }
}
