public import CJEInference
public import CJEProviders
import Foundation

/// One policy's response to one prompt, as it appears in `all_responses.jsonl`. A failed item
/// has `response: null` and `error`, never placeholder text.
public struct ResponseRecord: Codable, Sendable, Hashable {
    public var response: String?
    public var model: String
    public var temperature: Double
    public var systemPrompt: String
    public var maxTokens: Int
    public var seed: UInt64
    public var finishReason: FinishReason?
    public var nTokens: Int?
    /// Log probability of the sampled tokens (end-of-turn included when finished naturally) under
    /// log-softmax(logits / T) at the decode steps; teacher forcing reproduces it exactly.
    public var sampledLogprob: Double?
    /// The sampled token ids, so that teacher forcing scores exactly what was sampled.
    public var tokenIds: [TokenID]?
    public var error: String?

    enum CodingKeys: String, CodingKey {
        case response, model, temperature, seed, error
        case systemPrompt = "system_prompt"
        case maxTokens = "max_tokens"
        case finishReason = "finish_reason"
        case nTokens = "n_tokens"
        case sampledLogprob = "sampled_logprob"
        case tokenIds = "token_ids"
    }
}

/// A line of `all_responses.jsonl`: one prompt with every policy's response.
public struct ResponsesRecord: Codable, Sendable, Hashable {
    public var promptId: String
    public var prompt: String
    public var metadata: PromptRecord.Metadata
    public var responses: [String: ResponseRecord]

    enum CodingKeys: String, CodingKey {
        case prompt, metadata, responses
        case promptId = "prompt_id"
    }
}

/// A finished (or failed) attempt at one work item, as journaled.
public struct JournalEntry<Value: Codable & Sendable & Hashable>: Codable, Sendable, Hashable {
    public var promptId: String
    public var policy: String
    public var attempt: Int
    public var value: Value

    enum CodingKeys: String, CodingKey {
        case policy, attempt, value
        case promptId = "prompt_id"
    }
}

extension JournalEntry {
    /// The attempt an item is due for after `previous`: nil when it succeeded (`failed` is false)
    /// or has used `maxAttempts`.
    static func nextAttempt(after previous: JournalEntry?, failed: (Value) -> Bool, maxAttempts: Int) -> Int? {
        if let previous, !failed(previous.value) { return nil }
        let attempt = (previous?.attempt ?? 0) + 1
        return attempt <= maxAttempts ? attempt : nil
    }
}

/// How a stage went.
public struct StageReport: Sendable, Hashable, Codable {
    public var stage: String
    public var total: Int
    public var succeeded: Int
    public var failed: Int
    /// Items done in this invocation (the rest came from the journal).
    public var doneNow: Int
    public var seconds: Double
    /// Tokens the stage's outputs hold (generate: response tokens of every policy), if counted.
    public var tokens: Int?
    /// Provider calls, tokens and cost, by provider, over every invocation of the stage.
    public var usage: [String: ProviderUsage]?

    public init(
        stage: String, total: Int, succeeded: Int, failed: Int, doneNow: Int, seconds: Double, tokens: Int? = nil
    ) {
        self.stage = stage
        self.total = total
        self.succeeded = succeeded
        self.failed = failed
        self.doneNow = doneNow
        self.seconds = seconds
        self.tokens = tokens
    }

    public var failureRate: Double { total == 0 ? 0 : Double(failed) / Double(total) }
}

/// Progress of a stage: done so far, total, failures so far.
public typealias StageProgress = @Sendable (_ done: Int, _ total: Int, _ failed: Int) -> Void

/// A provider generation item.
struct ProviderItem: Sendable {
    var prompt: PromptRecord
    var policy: PolicyConfig
    var attempt: Int
}

/// Stage 2: one response per prompt from every policy.
public struct GenerateStage: Sendable {
    public let config: PipelineConfig
    public let run: RunDirectory
    /// The engine of a model name from the config.
    public let engine: @Sendable (String) throws -> any TextEngine
    /// The run's providers, for policies that name one.
    public var providers: ProviderHub?
    public var batchSize = 32

    public init(
        config: PipelineConfig, run: RunDirectory, engine: @escaping @Sendable (String) throws -> any TextEngine
    ) {
        self.config = config
        self.run = run
        self.engine = engine
    }

    /// Generates what the journal does not hold yet (or holds as failed with attempts left),
    /// then writes `all_responses.jsonl` from the journal.
    public func execute(prompts: [PromptRecord], progress: StageProgress? = nil) async throws -> StageReport {
        let started = Date()
        let journal = Journal<JournalEntry<ResponseRecord>>(url: run.journal("generate"))
        var latest = Self.latest(try journal.load())
        let total = prompts.count * config.policies.count
        var pending: [(prompt: PromptRecord, policy: PolicyConfig, attempt: Int)] = []
        for prompt in prompts {
            for policy in config.policies {
                guard
                    let attempt = JournalEntry.nextAttempt(
                        after: latest["\(prompt.promptId)\u{0}\(policy.name)"], failed: { $0.error != nil },
                        maxAttempts: config.maxAttempts)
                else { continue }
                pending.append((prompt, policy, attempt))
            }
        }
        func counts() -> (done: Int, failed: Int) {
            let keys = Set(prompts.flatMap { p in config.policies.map { "\(p.promptId)\u{0}\($0.name)" } })
            let finished = latest.filter { keys.contains($0.key) }
            return (finished.count, finished.values.filter { $0.value.error != nil }.count)
        }
        var (done, failed) = counts()
        progress?(done - failed, total, failed)

        var doneNow = 0
        func record(_ finished: [JournalEntry<ResponseRecord>]) throws {
            try journal.append(finished)
            for entry in finished { latest["\(entry.promptId)\u{0}\(entry.policy)"] = entry }
            doneNow += finished.count
            (done, failed) = counts()
            progress?(done - failed, total, failed)
        }

        // Provider policies: every item of a batch in flight at once (the client bounds it).
        let remote = Dictionary(grouping: pending.filter { $0.policy.provider != nil }, by: { $0.policy.provider! })
        for name in remote.keys.sorted() {
            guard let providers else { throw PipelineError.unknownProvider(name) }
            let generator = ProviderGenerator(client: try providers.client(name), model: providers.configs[name]!.model)
            let items = remote[name]!
            let size = generator.client.settings.batchSize(atLeast: batchSize)
            for start in stride(from: 0, to: items.count, by: size) {
                let batch = items[start..<min(start + size, items.count)].map {
                    ProviderItem(prompt: $0.prompt, policy: $0.policy, attempt: $0.attempt)
                }
                let seed = config.seed
                let (records, stop) = await concurrently(batch) { item in
                    try await generator.generate(
                        policy: item.policy, prompt: item.prompt.prompt,
                        seed: ItemSeed.derive(runSeed: seed, policy: item.policy.name, item: item.prompt.promptId))
                }
                try record(
                    zip(batch, records).compactMap { item, value in
                        value.map {
                            JournalEntry(
                                promptId: item.prompt.promptId, policy: item.policy.name, attempt: item.attempt,
                                value: $0)
                        }
                    })
                if let stop { throw stop }
            }
        }

        // Local items are grouped by model; within a model, batches keep prompt order.
        let byModel = Dictionary(grouping: pending.filter { $0.policy.provider == nil }, by: { $0.policy.model })
        for model in byModel.keys.sorted() {
            let items = byModel[model]!
            let engine = try engine(model)
            for start in stride(from: 0, to: items.count, by: batchSize) {
                let batch = Array(items[start..<min(start + batchSize, items.count)])
                var entries: [JournalEntry<ResponseRecord>?] = Array(repeating: nil, count: batch.count)
                var requests: [GenerationRequest] = []
                var requestItem: [Int] = []
                for (k, item) in batch.enumerated() {
                    let seed = ItemSeed.derive(
                        runSeed: config.seed, policy: item.policy.name, item: item.prompt.promptId)
                    var record = ResponseRecord(
                        response: nil, model: engine.modelInfo.name ?? model, temperature: item.policy.temperature,
                        systemPrompt: item.policy.systemPrompt, maxTokens: item.policy.maxTokens, seed: seed)
                    do {
                        let context = try engine.promptTokens([
                            .system(item.policy.systemPrompt), .user(item.prompt.prompt),
                        ])
                        requests.append(
                            GenerationRequest(
                                context: context, temperature: item.policy.temperature,
                                maxNewTokens: item.policy.maxTokens, seed: seed))
                        requestItem.append(k)
                    } catch {
                        record.error = "prompt could not be rendered: \(error.localizedDescription)"
                        entries[k] = JournalEntry(
                            promptId: item.prompt.promptId, policy: item.policy.name, attempt: item.attempt,
                            value: record)
                    }
                }
                // Within a batch, progress moves as requests finish (counted as done until the
                // batch's results say otherwise).
                let (before, failedBefore) = (done, failed)
                let lastFinished = LockedValue(0)
                let results = await engine.generateBatch(requests) { finished in
                    var changed = false
                    _ = lastFinished.update { value in
                        changed = finished > value
                        value = max(value, finished)
                    }
                    if changed { progress?(before - failedBefore + finished, total, failedBefore) }
                }
                for (r, result) in results.enumerated() {
                    let item = batch[requestItem[r]]
                    var record = ResponseRecord(
                        response: nil, model: engine.modelInfo.name ?? model, temperature: item.policy.temperature,
                        systemPrompt: item.policy.systemPrompt, maxTokens: item.policy.maxTokens,
                        seed: requests[r].seed)
                    switch result {
                    case .success(let generated) where generated.tokens.isEmpty:
                        record.error = "the model produced an empty response"
                    case .success(let generated):
                        record.response = generated.text
                        record.finishReason = generated.finishReason
                        record.nTokens = generated.tokens.count
                        record.sampledLogprob = generated.sampledLogProb
                        record.tokenIds = generated.tokens
                    case .failure(let error):
                        record.error = error.localizedDescription
                    }
                    entries[requestItem[r]] = JournalEntry(
                        promptId: item.prompt.promptId, policy: item.policy.name, attempt: item.attempt, value: record)
                }
                try record(entries.map { $0! })
            }
        }

        let records = prompts.map { prompt in
            var responses: [String: ResponseRecord] = [:]
            for policy in config.policies {
                responses[policy.name] = latest["\(prompt.promptId)\u{0}\(policy.name)"]?.value
            }
            return ResponsesRecord(
                promptId: prompt.promptId, prompt: prompt.prompt, metadata: prompt.metadata, responses: responses)
        }
        try AtomicFile.write(try JSONLines.encode(records), to: run.responses)
        (done, failed) = counts()
        let tokens = records.reduce(0) { sum, record in
            sum + record.responses.values.reduce(0) { $0 + ($1.nTokens ?? 0) }
        }
        return StageReport(
            stage: "generate", total: total, succeeded: done - failed, failed: failed, doneNow: doneNow,
            seconds: Date().timeIntervalSince(started), tokens: tokens)
    }

    /// The last entry of each (prompt, policy).
    static func latest<V>(_ entries: [JournalEntry<V>]) -> [String: JournalEntry<V>] {
        var map: [String: JournalEntry<V>] = [:]
        for entry in entries { map["\(entry.promptId)\u{0}\(entry.policy)"] = entry }
        return map
    }
}
