import CJEInference
import Foundation

/// Stage 2: `draws` responses per prompt from every policy (one by default), on its local model
/// or its provider, each sampled with its own seed from (run seed, policy, prompt id, draw).
/// Writes `data/all_responses.jsonl`.
public struct GenerateStage: ItemStage, PipelineStage {
    public let context: StageContext
    /// Items per engine call on a local model. The engine keeps its sequences full while items
    /// wait (one that finishes is replaced at once) and drains at the call's end, where the last
    /// long answers decode a few sequences at a time. Measured here (SmolLM2, 32 sequences, 100
    /// Arena prompts, 300 answers): 460 s in calls of 64, 401 s in one call, the same file.
    /// Values are journaled as they finish, whatever the call's size.
    public var batchSize = Self.localCallSize
    public static let localCallSize = 1024
    /// Items per batch on a provider, at least (the provider's own may be larger, to keep all its
    /// slots busy).
    public var providerBatchSize = 64

    public init(context: StageContext) {
        self.context = context
    }

    public static let id = RunStage.generate
    public var name: String { "generate" }

    public static func providers(_ config: PipelineConfig) -> [String] { config.policies.compactMap(\.provider) }
    public static func models(_ config: PipelineConfig) -> [String] { config.localPolicyModels }

    public func run(_ data: inout RunData) async throws -> [StageReport] {
        let prompts = try data.require([PromptRecord].self, from: .prompts)
        let (responses, report) = try await StageRunner(context: context).run(self, input: prompts)
        data[[ResponsesRecord].self] = responses
        return [report]
    }

    public struct Payload: Sendable {
        var prompt: PromptRecord
        var policy: PolicyConfig
        var draw: Int

        /// The item's sampling seed: from the run seed, the policy, the prompt id and the draw
        /// alone (the first draw's as before draws existed), so a draw is the same alone, in any
        /// batch and in any shard.
        func seed(_ runSeed: UInt64) -> UInt64 {
            Self.seed(
                runSeed, policy: policy.name, key: ItemKey(promptId: prompt.promptId, policy: policy.name, draw: draw))
        }

        public static func seed(_ runSeed: UInt64, policy: String, key: ItemKey) -> UInt64 {
            ItemSeed.derive(runSeed: runSeed, policy: policy, item: key.drawItem)
        }
    }

    public func items(for prompts: [PromptRecord]) -> [StageItem<Payload>] {
        let config = context.config
        return prompts.flatMap { prompt in
            config.policies.flatMap { policy in
                (0..<config.draws(of: policy)).map { draw in
                    StageItem(
                        key: ItemKey(promptId: prompt.promptId, policy: policy.name, draw: draw),
                        lane: .of(model: policy.model, provider: policy.provider),
                        payload: Payload(prompt: prompt, policy: policy, draw: draw))
                }
            }
        }
    }

    public func isFailure(_ value: ResponseRecord) -> Bool { value.error != nil }

    public func batchSize(on lane: Lane) throws -> Int {
        guard case .provider(let name) = lane else { return batchSize }
        return try context.providers.client(name).batchSize(atLeast: providerBatchSize)
    }

    public func isPermanent(_ value: ResponseRecord) -> Bool { value.errorKind == .permanent }

    public func process(
        _ batch: [Payload], on lane: Lane, finished: @escaping @Sendable (Int, ResponseRecord) -> Void
    ) async throws -> BatchResult<ResponseRecord> {
        switch lane {
        case .provider(let name):
            let generator = ProviderGenerator(client: try context.providers.client(name), name: name)
            let seed = context.config.seed
            return await concurrently(batch, stop: context.stop, finished: finished) { item in
                try await generator.generate(policy: item.policy, prompt: item.prompt.prompt, seed: item.seed(seed))
            }
        case .model(let model):
            let engine = try context.engine(model)
            let before = engine.timings
            let values = await generate(batch, on: engine, finished: finished)
            return BatchResult(values: values, engine: engine.timings.since(before))
        }
    }

    /// Samples every item of a batch on a local engine, each told to `finished` as it is done;
    /// an item that fails is a record with `response: null` and the error.
    private func generate(
        _ batch: [Payload], on engine: any TextEngine, finished: @escaping @Sendable (Int, ResponseRecord) -> Void
    ) async -> [ResponseRecord?] {
        let blanks = batch.map { item in
            var blank = ResponseRecord(
                policy: item.policy, model: engine.modelInfo.name ?? item.policy.model,
                seed: item.seed(context.config.seed))
            blank.drawIdx = item.draw > 0 ? item.draw : nil
            return blank
        }
        return await engineBatch(
            count: batch.count, stop: context.stop, finished: finished,
            request: { k in
                do {
                    return try Self.request(
                        prompt: batch[k].prompt.prompt, policy: batch[k].policy, seed: blanks[k].seed, engine: engine)
                } catch {
                    throw ItemFailure("prompt could not be rendered: \(error.localizedDescription)", kind: .permanent)
                }
            },
            failed: { k, error in
                var record = blanks[k]
                record.fail(error)
                return record
            },
            value: { k, result in Self.record(blanks[k], result) },
            run: { await engine.generateBatch($0, control: $1) })
    }

    /// The request that samples `policy`'s response to `prompt` with `seed` (validate's audit
    /// regenerates draws with it); throws when the chat template cannot render the prompt.
    static func request(prompt: String, policy: PolicyConfig, seed: UInt64, engine: any TextEngine) throws
        -> GenerationRequest
    {
        GenerationRequest(
            context: try engine.promptTokens([.system(policy.systemPrompt), .user(prompt)]),
            temperature: policy.temperature, maxNewTokens: policy.maxTokens, seed: seed)
    }

    /// An item's record once its generation is done.
    private static func record(_ blank: ResponseRecord, _ result: Result<GenerationResult, any Error>) -> ResponseRecord
    {
        var record = blank
        switch result {
        case .success(let generated) where generated.tokens.isEmpty:
            record.fail("the model produced an empty response")
        case .success(let generated):
            record.response = generated.text
            record.finishReason = generated.finishReason
            record.nTokens = generated.tokens.count
            record.sampledLogprob = generated.sampledLogProb
            record.tokenIds = generated.tokens
            record.stopTokenId = generated.stopToken
        case .failure(let error):
            record.fail(error)
        }
        return record
    }

    public func write(_ prompts: [PromptRecord], values: [ItemKey: ResponseRecord]) throws -> StageOutcome<
        [ResponsesRecord]
    > {
        let config = context.config
        var (total, failed) = (0, 0)
        let records = prompts.map { prompt in
            var responses: [String: ResponseRecord] = [:]
            var draws: [String: [ResponseRecord]] = [:]
            for policy in config.policies {
                let value = values[ItemKey(promptId: prompt.promptId, policy: policy.name)]
                responses[policy.name] = value
                if value.map(isFailure) ?? true { failed += 1 }
                total += config.draws(of: policy)
                for draw in 1..<config.draws(of: policy) {
                    let key = ItemKey(promptId: prompt.promptId, policy: policy.name, draw: draw)
                    if let value = values[key] {
                        draws[policy.name, default: []].append(value)
                        if isFailure(value) { failed += 1 }
                    } else {
                        // Never worked (a stop): kept as a failure, never as a made-up response.
                        var missing = ResponseRecord(
                            policy: policy, model: policy.model,
                            seed: Payload.seed(config.seed, policy: policy.name, key: key))
                        missing.drawIdx = draw
                        missing.fail("not generated")
                        draws[policy.name, default: []].append(missing)
                        failed += 1
                    }
                }
            }
            return ResponsesRecord(
                promptId: prompt.promptId, prompt: prompt.prompt, metadata: prompt.metadata, responses: responses,
                draws: draws.isEmpty ? nil : draws)
        }
        try AtomicFile.write(try JSONLines.encode(records), to: context.run.responses)
        let tokens = records.reduce(0) { sum, record in
            sum
                + config.policies.reduce(0) { inner, policy in
                    inner + record.allDraws(of: policy.name).reduce(0) { $0 + ($1.response.nTokens ?? 0) }
                }
        }
        return StageOutcome(output: records, total: total, failed: failed, tokens: tokens)
    }
}
