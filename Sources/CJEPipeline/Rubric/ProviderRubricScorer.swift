import CJEInference
import CJEProviders
import Foundation

/// A rubric judge behind an OpenAI-compatible endpoint.
/// - deterministic: temperature 0, the answer parsed strictly (null + error otherwise);
/// - uncertainty, as configured: the `top_logprobs` at the score token, a stated 95% interval,
///   or `samples` answers at temperature 1. A missing piece fails the record's distribution;
///   it is never replaced by another method.
struct ProviderRubricScorer: RubricBackend {
    let rubric: Rubric
    let client: any ChatProvider
    let provider: ProviderConfig
    let maxTokens: Int
    let method: UncertaintyMethod
    let samples: Int
    /// Seeds the samples of `samples` (per item: this, the item's text and the sample index).
    let seed: UInt64

    var modelName: String { provider.model }
    var batchSize: Int { client.batchSize(atLeast: 16) }

    func score(
        _ items: [RubricItem], stop: StopFlag, finished: @escaping @Sendable (Int, JudgeValue) -> Void
    ) async -> BatchResult<JudgeValue> {
        await concurrently(items, stop: stop, finished: finished) { try await judgeOne($0) }
    }

    func judgeOne(_ item: RubricItem) async throws -> JudgeValue {
        var value = JudgeValue(rule: .greedy)
        value.method = JudgeMethod(method)
        let messages = rubric.messages(prompt: item.prompt, response: item.response)
        let wantsTop = method == .topLogprobs
        do {
            let answer = try await client.chat(
                messages, temperature: 0, maxTokens: maxTokens, topLogprobs: wantsTop ? provider.topLogprobs : nil)
            value.read(answer: answer.text, parse: rubric.parseAnswer)
            switch method {
            case .topLogprobs:
                try await distribution(from: answer, messages: messages, into: &value)
            case .confidenceInterval:
                try await interval(item, into: &value)
            case .samples:
                try await sampled(item, messages: messages, into: &value)
            }
        } catch {
            value.fail(try itemFailure(error))
        }
        return value
    }

    /// The distribution over 0..10 from the top log probs at the answer's first digit.
    private func distribution(
        from answer: ChatCompletion, messages: [ChatMessage], into value: inout JudgeValue
    ) async throws {
        guard let tokens = answer.logprobs, !tokens.isEmpty else {
            value.distributionError =
                "the endpoint returned no logprobs; set the judge's uncertainty to confidence_interval or samples for it"
            return
        }
        var scores = ScoreTokens(tokens: tokens)
        if scores.needsNextStep {
            // The tokenizer writes 10 as "1" + "0": what follows "1" decides between 1 and 10.
            if let next = scores.observedAfterOne {
                scores.split(next: next)
            } else if provider.prefill {
                let prefix = scores.textBeforeDigit + "1"
                let follow = try await client.chat(
                    messages + [.assistant(prefix)], temperature: 0, maxTokens: 1, topLogprobs: provider.topLogprobs)
                guard let first = follow.logprobs?.first else {
                    value.distributionError = "the prefilled follow-up returned no logprobs"
                    return
                }
                scores.split(next: ScoreTokens.alternatives(first))
            } else {
                value.distributionError =
                    "top_logprobs cannot tell 1 from 10: this tokenizer writes 10 as \"1\" + \"0\" and the answer did not start with 1; set the provider's prefill: true if the endpoint continues a final assistant message"
                return
            }
        }
        guard let p = scores.probabilities, let summary = ScoreDistribution(weights: p) else {
            value.distributionError = scores.problem ?? "no score token among the top log probs"
            return
        }
        value.mean = summary.mean
        value.variance = summary.variance
        value.mass = summary.mass
    }

    /// A stated 95% interval: variance = ((hi - lo) / 3.92 / 10)^2, mean = the stated score.
    private func interval(_ item: RubricItem, into value: inout JudgeValue) async throws {
        let asked = rubric.withInterval
        let answer = try await client.chat(
            asked.messages(prompt: item.prompt, response: item.response), temperature: 0, maxTokens: maxTokens + 12)
        guard let (score, low, high) = Rubric.parseInterval(asked.withoutPrefix(answer.text)) else {
            value.distributionError = "unparseable interval answer: \(answer.text.prefix(60).debugDescription)"
            return
        }
        value.mean = Double(score) / 10
        value.variance = pow((Double(high - low) / 3.92) / 10, 2)
    }

    /// `samples` answers at temperature 1, each seeded; the parsed ones give mean and variance.
    private func sampled(_ item: RubricItem, messages: [ChatMessage], into value: inout JudgeValue) async throws {
        var parsed: [Double] = []
        for index in 0..<samples {
            let sampleSeed = ItemSeed.derive(
                runSeed: seed, policy: "judge-sample-\(index)", item: item.prompt + "\u{0}" + item.response)
            let answer = try await client.chat(messages, temperature: 1, maxTokens: maxTokens, seed: sampleSeed)
            if let score = rubric.parseAnswer(answer.text) { parsed.append(Double(score) / 10) }
        }
        guard parsed.count >= 2 else {
            value.distributionError = "only \(parsed.count) of \(samples) sampled answers parsed"
            return
        }
        guard let mean = parsed.mean else { return }  // at least two, checked above
        value.mean = mean
        value.variance = parsed.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(parsed.count)
        value.mass = Double(parsed.count) / Double(samples)
    }
}
