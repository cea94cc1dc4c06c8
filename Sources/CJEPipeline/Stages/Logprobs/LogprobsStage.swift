public import CJEInference
import Foundation

/// Stage 2b: teacher-forced log P(P0 response | prompt) under every policy that can have it
/// exactly, P0 included, at the policy's own temperature over the exact token boundary: on the
/// engine for local policies, over token ids for a provider that declares `teacher_forcing`
/// (`EndpointTeacherForcing`). Every other policy gets no number, only why (`unavailable`).
/// Writes `data/logprobs.jsonl`.
public struct LogprobsStage: ItemStage, PipelineStage {
    public let context: StageContext
    public var batchSize = 32
    /// Items per batch on a provider, at least (the provider's own may be larger).
    public var providerBatchSize = 64

    public init(context: StageContext) {
        self.context = context
    }

    public static let id = RunStage.logprobs
    public var name: String { "logprobs" }

    public static func models(_ config: PipelineConfig) -> [String] {
        config.policies.compactMap { if case .local(let model) = config.logprobSource(of: $0) { model } else { nil } }
    }

    public static func providers(_ config: PipelineConfig) -> [String] {
        config.policies.compactMap {
            if case .endpoint(let provider, _) = config.logprobSource(of: $0) { provider } else { nil }
        }
    }

    /// Why this stage cannot run under `config` (a config made in code, not loaded from a file,
    /// where the same check names the key): `logprobs: required` with a policy that cannot be
    /// teacher-forced exactly, or an endpoint asked for a temperature it does not apply.
    public static func refusal(_ config: PipelineConfig) -> String? {
        do {
            try config.validateLogprobs { key, reason in .invalid(path: "the config", key: key, reason: reason) }
            return nil
        } catch {
            return "logprobs: \(error.localizedDescription)"
        }
    }

    public func run(_ data: inout RunData) async throws -> [StageReport] {
        let responses = try data.require([ResponsesRecord].self, from: .generate)
        if let directOnly = context.config.directOnly { context.say("logprobs: \(directOnly)") }
        let (logprobs, report) = try await StageRunner(context: context).run(self, input: responses)
        data[[LogprobsRecord].self] = logprobs
        return [report]
    }

    /// The teacher-forcing request for the logging policy's response to `record` under `policy`:
    /// the sampled tokens when the policy's model sampled them, otherwise the text tokenized on
    /// its own; the end-of-turn token when the response stopped naturally.
    public static func request(
        record: ResponsesRecord, policy: PolicyConfig, logging: PolicyConfig, engine: any TextEngine
    ) throws -> ScoreRequest {
        guard let p0 = record.responses[logging.name], let text = p0.response else {
            throw PipelineError.empty(path: record.promptId, detail: "no \(logging.name) response")
        }
        let context = try engine.promptTokens([.system(policy.systemPrompt), .user(record.prompt)])
        let tokens: [TokenID]
        if let ids = p0.tokenIds, policy.model == logging.model, logging.provider == nil {
            tokens = ids
        } else {
            tokens = try engine.responseTokens(text)
        }
        return ScoreRequest(
            context: context, response: tokens, appendEndOfTurn: p0.finishReason == .stop,
            temperatures: [policy.temperature])
    }

    public struct Payload: Sendable {
        var record: ResponsesRecord
        var policy: PolicyConfig
    }

    /// Where one policy's value for one prompt comes from.
    enum Source: Equatable {
        /// Teacher-forced as this policy's item.
        case scored(policy: String)
        /// The logging policy's sampled log prob, recorded when it was generated.
        case sampled
        /// None can be had exactly, and why.
        case unavailable(String)
    }

    /// A value is computed once however many local policies would compute it: policies with
    /// the same model, system prompt and temperature send the same request (same context
    /// tokens, same response tokens, same end-of-turn, same temperature), so the later ones take
    /// the first one's value (the logging policy's, if it is one of them). The logging policy's
    /// value is its sampled log prob where generation recorded exactly what teacher forcing
    /// would score: the sampled token ids, at the same temperature, ended by the length limit
    /// or by the end-of-turn token (another end-of-generation token was sampled with its own
    /// probability). The validate audit re-scores a seeded sample from scratch, so a broken
    /// shortcut shows. Over HTTP every policy's value is its own request: an endpoint is not
    /// batch-invariant, and a clone's value measures its noise.
    func source(of policy: PolicyConfig, for record: ResponsesRecord, endOfTurn: TokenID?) -> Source {
        let config = context.config
        switch config.logprobSource(of: policy) {
        case .none(let reason): return .unavailable(reason)
        case .endpoint: return .scored(policy: policy.name)
        case .local: break
        }
        let logging = config.logging
        guard policy.scoresLike(logging) else {
            let first = config.policies.first(where: policy.scoresLike) ?? policy
            return .scored(policy: first.name)
        }
        if let p0 = record.responses[logging.name], p0.tokenIds != nil, p0.sampledLogprob != nil,
            p0.temperature == logging.temperature,
            p0.finishReason == .length || (p0.finishReason == .stop && p0.stopTokenId == endOfTurn && endOfTurn != nil)
        {
            return .sampled
        }
        return .scored(policy: logging.name)
    }

    /// The logging model's end-of-turn token (nil for a logging policy on a provider, or if its
    /// engine cannot be had: nothing is then taken from sampling).
    private var endOfTurn: TokenID? {
        let logging = context.config.logging
        guard logging.provider == nil else { return nil }
        return try? context.engine(logging.model).modelInfo.endOfTurnToken
    }

    /// Every policy's part of every prompt whose P0 response exists, except values taken from
    /// another and policies without a source (`source`).
    public func items(for responses: [ResponsesRecord]) -> [StageItem<Payload>] {
        let logging = context.config.loggingPolicy
        let endOfTurn = self.endOfTurn
        return responses.filter { $0.responses[logging]?.response != nil }.flatMap { record in
            context.config.policies.filter {
                source(of: $0, for: record, endOfTurn: endOfTurn) == .scored(policy: $0.name)
            }
            .map { policy in
                StageItem(
                    key: ItemKey(promptId: record.promptId, policy: policy.name),
                    lane: .of(model: policy.model, provider: policy.provider),
                    payload: Payload(record: record, policy: policy))
            }
        }
    }

    public func isFailure(_ value: ScoredValue) -> Bool { value.error != nil }

    public func batchSize(on lane: Lane) throws -> Int {
        guard case .provider(let name) = lane else { return batchSize }
        return try context.providers.client(name).batchSize(atLeast: providerBatchSize)
    }

    public func isPermanent(_ value: ScoredValue) -> Bool { value.errorKind == .permanent }

    public func process(
        _ batch: [Payload], on lane: Lane, finished: @escaping @Sendable (Int, ScoredValue) -> Void
    ) async throws -> BatchResult<ScoredValue> {
        let logging = context.config.logging
        switch lane {
        case .provider(let name):
            guard let kind = context.config.providers[name]?.teacherForcing else {
                throw PipelineError.unknownProvider(name)
            }
            let forcing = EndpointTeacherForcing(
                client: try context.providers.teacherForcing(name), provider: name, protocol: kind)
            return await forcing.score(
                batch.map { ($0.record, $0.policy) }, logging: logging, stop: context.stop, finished: finished)
        case .model(let model):
            let engine = try context.engine(model)
            return BatchResult(
                values: await engineBatch(
                    count: batch.count, stop: context.stop, finished: finished,
                    request: { k in
                        try Self.request(
                            record: batch[k].record, policy: batch[k].policy, logging: logging, engine: engine)
                    },
                    failed: { _, error in ScoredValue(failure: error) },
                    value: { _, result in Self.value(result) },
                    run: { await engine.scoreBatch($0, control: $1) }))
        }
    }

    private static func value(_ result: Result<ScoreResult, any Error>) -> ScoredValue {
        switch result {
        case .success(let scored):
            let value = scored.scored[0]
            return ScoredValue(logprob: value.total, nTokens: value.tokenLogProbs.count)
        case .failure(let error):
            return ScoredValue(failure: error)
        }
    }

    /// One line per prompt; a policy without a value is null with its error, or with why it has
    /// none by design (`unavailable`: not a failure). A P0 response that failed to generate
    /// fails every policy of its prompt that has a source.
    public func write(_ responses: [ResponsesRecord], values: [ItemKey: ScoredValue]) throws -> StageOutcome<
        [LogprobsRecord]
    > {
        let config = context.config
        let logging = config.loggingPolicy
        let endOfTurn = self.endOfTurn
        var failed = 0
        var shared = 0
        let records = responses.map { record -> LogprobsRecord in
            let p0 = record.responses[logging]
            var logprobs: [String: Double?] = [:]
            var errors: [String: String] = [:]
            var unavailable: [String: String] = [:]
            var methods: [String: String] = [:]
            var nTokens: Int?
            for policy in config.policies {
                let source = source(of: policy, for: record, endOfTurn: endOfTurn)
                if case .unavailable(let reason) = source {
                    logprobs[policy.name] = .some(nil)
                    unavailable[policy.name] = reason
                    continue
                }
                if p0?.response == nil {
                    logprobs[policy.name] = .some(nil)
                    errors[policy.name] = "no \(logging) response to score: \(p0?.error ?? "missing")"
                    failed += 1
                    continue
                }
                let value: ScoredValue?
                switch source {
                case .sampled:
                    // `source` says `.sampled` only for a response with its token ids and log prob.
                    value = p0.map {
                        ScoredValue(
                            logprob: $0.sampledLogprob,
                            nTokens: ($0.tokenIds?.count ?? 0) + ($0.finishReason == .stop ? 1 : 0))
                    }
                    shared += 1
                case .scored(let owner):
                    value = values[ItemKey(promptId: record.promptId, policy: owner)]
                    if owner != policy.name, value?.logprob != nil { shared += 1 }
                case .unavailable:
                    value = nil
                }
                logprobs[policy.name] = .some(value?.logprob)
                if value?.logprob != nil { methods[policy.name] = value?.method ?? "local" }
                if let error = value?.error ?? (value == nil ? "not scored" : nil) {
                    errors[policy.name] = error
                    failed += 1
                }
                if policy.name == logging { nTokens = value?.nTokens }
            }
            let scoredP0 = logprobs[logging] ?? nil
            var line = LogprobsRecord(
                promptId: record.promptId, prompt: record.prompt, p0Response: p0?.response, logprobs: logprobs,
                nResponseTokens: nTokens, errors: errors, p0SampledLogprob: p0?.sampledLogprob,
                p0SampledMinusScored: p0?.sampledLogprob.flatMap { s in scoredP0.map { s - $0 } })
            line.logprobMethods = methods
            line.unavailable = unavailable
            return line
        }
        try AtomicFile.write(try JSONLines.encode(records), to: context.run.logprobs)
        let scoring = config.policies.filter { config.logprobSource(of: $0).isAvailable }.count
        return StageOutcome(output: records, total: responses.count * scoring, failed: failed, shared: shared)
    }
}
