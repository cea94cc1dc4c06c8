import CJEInference
import Foundation

/// Teacher forcing over HTTP, only where it is exact: a provider that returns prompt log probs
/// over token ids (`teacher_forcing: vllm`). The prompt is built from ids, never from text: the
/// server's chat template rendered into ids up to the assistant header (its `/tokenize`), then
/// the response's ids (`responseTokens`), then the template's end-of-turn id when the
/// response stopped by itself. The ids the server echoes must be the ones sent; the value is
/// the sum of the response positions' log probs, at temperature 1 (the config refuses another
/// temperature on such an endpoint unless `temperature_probe`, where `TemperatureProbe` must first
/// show that the server applies the request's). Anything missing fails the item, never becomes a
/// number.
struct EndpointTeacherForcing: Sendable {
    let client: any TeacherForcingProvider
    let provider: String
    let `protocol`: TeacherForcingProtocol

    /// An endpoint's prompt log probs at or below this are clamped (vLLM writes -inf as -9999).
    static let clamped = -9999.0

    /// Scores every (response record, policy) of a batch concurrently (the client bounds how
    /// many are in flight); a failure is that item's, except one that stops the stage (401,
    /// the budget, a changed model).
    func score(
        _ batch: [(record: ResponsesRecord, policy: PolicyConfig)], logging: PolicyConfig, stop: StopFlag,
        finished: @escaping @Sendable (Int, ScoredValue) -> Void
    ) async -> BatchResult<ScoredValue> {
        let endOfTurn: Result<TokenID, any Error>
        do {
            // A policy at T != 1 only where the endpoint shows it applies T (its answers cached).
            for temperature in Set(batch.map(\.policy.temperature)).subtracting([1]).sorted() {
                try await TemperatureProbe(client: client, provider: provider).check(temperature)
            }
            endOfTurn = .success(try await self.endOfTurn())
        } catch {
            if FailureKind(of: error) == .fatal { return BatchResult(values: batch.map { _ in nil }, stop: error) }
            endOfTurn = .failure(error)
        }
        return await concurrently(batch, stop: stop, finished: finished) { item in
            do {
                return try await value(
                    of: item.record, under: item.policy, logging: logging, endOfTurn: try endOfTurn.get())
            } catch {
                return ScoredValue(failure: try itemFailure(error))
            }
        }
    }

    /// The id the server's chat template closes an assistant turn with: the token after a
    /// probe answer's own ids in the rendered conversation.
    func endOfTurn() async throws -> TokenID {
        let question: [ChatMessage] = [.system("You are a helpful assistant."), .user("Say hello.")]
        let answer = "Hello."
        let prefix = try await client.templateTokens(question, addGenerationPrompt: true)
        let whole = try await client.templateTokens(question + [.assistant(answer)], addGenerationPrompt: false)
        let own = try await client.textTokens(answer)
        let end = prefix.count + own.count
        guard whole.count > end, Array(whole.prefix(end)) == prefix + own else {
            throw ItemFailure(
                "provider '\(provider)': its chat template does not render an answer as the prompt's ids, the answer's own ids and an end-of-turn id (/tokenize), so where a response ends cannot be placed exactly"
            )
        }
        return whole[end]
    }

    /// The response's ids in the server's vocabulary: the ids it was sampled as, when P0 ran on
    /// the engine and the server renders those ids back to exactly its text (the same tokenizer:
    /// P0's own log prob is of those ids, and sampling need not give the text's canonical
    /// tokenization), else the server's tokenization of the text on its own.
    func responseTokens(_ p0: ResponseRecord) async throws -> [TokenID] {
        let text = p0.response ?? ""
        let own = try await client.textTokens(text)
        guard let sampled = p0.tokenIds, !sampled.isEmpty, sampled != own else { return own }
        return try await client.detokenize(sampled) == text ? sampled : own
    }

    /// log P(P0's response | prompt) under `policy`, from the endpoint.
    func value(
        of record: ResponsesRecord, under policy: PolicyConfig, logging: PolicyConfig, endOfTurn: TokenID
    ) async throws -> ScoredValue {
        guard let p0 = record.responses[logging.name], let text = p0.response else {
            throw ItemFailure("no \(logging.name) response", kind: .permanent)
        }
        let context = try await client.templateTokens(
            [.system(policy.systemPrompt), .user(record.prompt)], addGenerationPrompt: true)
        var response = try await responseTokens(p0)
        if response.isEmpty {
            throw ItemFailure("provider '\(provider)' tokenized the response into no tokens", kind: .permanent)
        }
        if p0.finishReason == .stop { response.append(endOfTurn) }
        let ids = context + response
        let answer = try await client.promptLogprobs(
            ids, temperature: policy.temperature == 1 ? nil : policy.temperature, alternatives: 1,
            cacheTag: "logprobs/\(policy.name)")
        guard let echoed = answer.tokenIds else {
            throw ItemFailure("provider '\(provider)' did not say which token ids it scored (prompt_token_ids)")
        }
        if echoed != ids {
            let k =
                zip(echoed, ids).enumerated().first { $0.element.0 != $0.element.1 }?.offset
                ?? min(echoed.count, ids.count)
            throw ItemFailure(
                "provider '\(provider)' scored other token ids than were sent (\(echoed.count) for \(ids.count); first difference at position \(k): sent \(k < ids.count ? "\(ids[k])" : "nothing"), scored \(k < echoed.count ? "\(echoed[k])" : "nothing")): its values would be of another text",
                kind: .permanent)
        }
        var total = 0.0
        for position in context.count..<ids.count {
            guard position < answer.logprobs.count, let logprob = answer.logprobs[position] else {
                throw ItemFailure(
                    "provider '\(provider)' returned no prompt log prob for position \(position) of \(ids.count) (token \(ids[position])): the endpoint must return prompt_logprobs"
                )
            }
            guard logprob.isFinite, logprob > Self.clamped, logprob <= 0 else {
                throw ItemFailure(
                    "provider '\(provider)' returned log prob \(logprob) for position \(position) (token \(ids[position])): clamped or not a log prob",
                    kind: .permanent)
            }
            total += logprob
        }
        return ScoredValue(logprob: total, nTokens: response.count, method: `protocol`.rawValue)
    }
}
