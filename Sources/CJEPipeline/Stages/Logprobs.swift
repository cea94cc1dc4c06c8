public import CJEInference
import Foundation

/// A line of `logprobs.jsonl`: the P0 response's log probability under every policy.
public struct LogprobsRecord: Codable, Sendable, Hashable {
    public var promptId: String
    public var prompt: String
    public var p0Response: String?
    /// Teacher-forced log P(P0 response | prompt) per policy; null where it failed.
    public var logprobs: [String: Double?]
    public var nResponseTokens: Int?
    public var errors: [String: String]
    /// The P0 response's sampled log prob, and teacher forcing's value minus it (0 when exact).
    public var p0SampledLogprob: Double?
    public var p0SampledMinusScored: Double?

    enum CodingKeys: String, CodingKey {
        case prompt, logprobs, errors
        case promptId = "prompt_id"
        case p0Response = "p0_response"
        case nResponseTokens = "n_response_tokens"
        case p0SampledLogprob = "p0_sampled_logprob"
        case p0SampledMinusScored = "p0_sampled_minus_scored"
    }

    /// Encodes every policy key, with null for failures (JSONEncoder would drop nil values).
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(promptId, forKey: .promptId)
        try c.encode(prompt, forKey: .prompt)
        try c.encode(p0Response, forKey: .p0Response)
        var inner = c.nestedContainer(keyedBy: AnyKey.self, forKey: .logprobs)
        for (policy, value) in logprobs {
            try inner.encode(value, forKey: AnyKey(stringValue: policy))
        }
        try c.encode(nResponseTokens, forKey: .nResponseTokens)
        try c.encode(errors, forKey: .errors)
        try c.encode(p0SampledLogprob, forKey: .p0SampledLogprob)
        try c.encode(p0SampledMinusScored, forKey: .p0SampledMinusScored)
    }
}

/// A journaled teacher-forcing result for one (prompt, policy).
public struct ScoredValue: Codable, Sendable, Hashable {
    public var logprob: Double?
    public var nTokens: Int?
    public var error: String?

    enum CodingKeys: String, CodingKey {
        case logprob, error
        case nTokens = "n_tokens"
    }
}

/// Stage 2b: teacher-forced log P(P0 response | prompt) under every policy, P0 included.
public struct LogprobsStage: Sendable {
    public let config: PipelineConfig
    public let run: RunDirectory
    public let engine: @Sendable (String) throws -> any TextEngine
    public var batchSize = 32

    public init(
        config: PipelineConfig, run: RunDirectory, engine: @escaping @Sendable (String) throws -> any TextEngine
    ) {
        self.config = config
        self.run = run
        self.engine = engine
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
        if let ids = p0.tokenIds, policy.model == logging.model {
            tokens = ids
        } else {
            tokens = try engine.responseTokens(text)
        }
        return ScoreRequest(
            context: context, response: tokens, appendEndOfTurn: p0.finishReason == .stop,
            temperatures: [policy.temperature])
    }

    public func execute(responses: [ResponsesRecord], progress: StageProgress? = nil) async throws -> StageReport {
        let started = Date()
        let journal = Journal<JournalEntry<ScoredValue>>(url: run.journal("logprobs"))
        var latest = GenerateStage.latest(try journal.load())
        let logging = config.logging
        let total = responses.count * config.policies.count
        var pending: [(record: ResponsesRecord, policy: PolicyConfig, attempt: Int)] = []
        for record in responses {
            guard let p0 = record.responses[logging.name], p0.response != nil else { continue }
            for policy in config.policies {
                guard
                    let attempt = JournalEntry.nextAttempt(
                        after: latest[record.promptId + "\u{0}" + policy.name], failed: { $0.error != nil },
                        maxAttempts: config.maxAttempts)
                else { continue }
                pending.append((record, policy, attempt))
            }
        }
        var doneNow = 0
        func report() {
            let failed = latest.values.filter { $0.value.error != nil }.count
            progress?(latest.count - failed, total, failed)
        }
        report()
        let byModel = Dictionary(grouping: pending, by: { $0.policy.model })
        for model in byModel.keys.sorted() {
            let items = byModel[model]!
            let engine = try engine(model)
            for start in stride(from: 0, to: items.count, by: batchSize) {
                let batch = Array(items[start..<min(start + batchSize, items.count)])
                var values: [ScoredValue?] = Array(repeating: nil, count: batch.count)
                var requests: [ScoreRequest] = []
                var requestItem: [Int] = []
                for (k, item) in batch.enumerated() {
                    do {
                        requests.append(
                            try Self.request(record: item.record, policy: item.policy, logging: logging, engine: engine)
                        )
                        requestItem.append(k)
                    } catch {
                        values[k] = ScoredValue(logprob: nil, nTokens: nil, error: error.localizedDescription)
                    }
                }
                let results = await engine.scoreBatch(requests)
                for (r, result) in results.enumerated() {
                    switch result {
                    case .success(let scored):
                        let value = scored.scored[0]
                        values[requestItem[r]] = ScoredValue(
                            logprob: value.total, nTokens: value.tokenLogProbs.count, error: nil)
                    case .failure(let error):
                        values[requestItem[r]] = ScoredValue(
                            logprob: nil, nTokens: nil, error: error.localizedDescription)
                    }
                }
                let entries = batch.enumerated().map { k, item in
                    JournalEntry(
                        promptId: item.record.promptId, policy: item.policy.name, attempt: item.attempt,
                        value: values[k]!)
                }
                try journal.append(entries)
                for entry in entries { latest[entry.promptId + "\u{0}" + entry.policy] = entry }
                doneNow += entries.count
                report()
            }
        }

        var failed = 0
        let records = responses.map { record -> LogprobsRecord in
            let p0 = record.responses[logging.name]
            var logprobs: [String: Double?] = [:]
            var errors: [String: String] = [:]
            var nTokens: Int?
            for policy in config.policies {
                if p0?.response == nil {
                    logprobs[policy.name] = .some(nil)
                    errors[policy.name] = "no \(logging.name) response to score: \(p0?.error ?? "missing")"
                    failed += 1
                    continue
                }
                let entry = latest[record.promptId + "\u{0}" + policy.name]?.value
                logprobs[policy.name] = .some(entry?.logprob)
                if let error = entry?.error ?? (entry == nil ? "not scored" : nil) {
                    errors[policy.name] = error
                    failed += 1
                }
                if policy.name == logging.name { nTokens = entry?.nTokens }
            }
            let scoredP0 = logprobs[logging.name] ?? nil
            return LogprobsRecord(
                promptId: record.promptId, prompt: record.prompt, p0Response: p0?.response, logprobs: logprobs,
                nResponseTokens: nTokens, errors: errors, p0SampledLogprob: p0?.sampledLogprob,
                p0SampledMinusScored: p0?.sampledLogprob.flatMap { s in scoredP0.map { s - $0 } })
        }
        try AtomicFile.write(try JSONLines.encode(records), to: run.logprobs)
        return StageReport(
            stage: "logprobs", total: total, succeeded: total - failed, failed: failed, doneNow: doneNow,
            seconds: Date().timeIntervalSince(started))
    }
}
