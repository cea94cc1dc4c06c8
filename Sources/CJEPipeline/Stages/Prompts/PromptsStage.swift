import CJEProviders
import CJEInference
import Foundation

/// Stage 1: the first `n` prompts of the seeded ranking of the configured source, written to
/// `data/arena_prompts_10k.jsonl` (a larger `n` extends the file: the ranking does not change).
public struct PromptsStage: PipelineStage {
    public let context: StageContext

    public init(context: StageContext) {
        self.context = context
    }

    public static let id = RunStage.prompts
    /// Every local model a prompt must fit: the policies', the judge's and the oracle's.
    public static func models(_ config: PipelineConfig) -> [String] {
        GenerateStage.models(config) + JudgeStage.models(config) + OracleStage.models(config)
    }

    public func run(_ data: inout RunData) async throws -> [StageReport] {
        let config = context.config
        let (records, empty) = try await source()
        let fits = try fitCheck()
        var (sample, tooLong) = try PromptSource.sample(records, n: config.n, seed: config.seed, fits: fits)
        if sample.count < config.n {
            context.say(
                "prompts: the source has \(sample.count) usable prompts, fewer than n = \(config.n); using all of them")
        }
        var leftOut: [String: Int] = [:]
        if tooLong > 0 { leftOut["too_long"] = tooLong }
        if empty > 0 { leftOut["empty"] = empty }
        var share = ""
        data[PromptSample.self] = PromptSample(ids: sample.map(\.promptId))
        if let shard = context.shard {
            // The whole sample is drawn as an unsharded run draws it; the shard keeps its ranks.
            sample = sample.enumerated().filter { shard.owns(rank: $0.offset) }.map(\.element)
            share = " (shard \(shard))"
        }
        try AtomicFile.write(try JSONLines.encode(sample), to: context.run.prompts)
        var parts: [String] = []
        if tooLong > 0 {
            parts.append("\(tooLong) too long for \(config.engine.sequenceContext)-token sequences")
        }
        if empty > 0 { parts.append("\(empty) empty") }
        let left = parts.isEmpty ? "" : "; left out: " + parts.joined(separator: ", ")
        context.say("prompts: \(sample.count)\(share) written to \(context.run.prompts.path)\(left)")
        data[[PromptRecord].self] = sample
        context.manifest.update {
            $0.prompts = PromptsOutcome(written: sample.count, leftOut: leftOut, sourceSize: records.count)
        }
        try context.manifest.save()
        return []
    }

    /// Whether a prompt fits every sequence it will be in on a local engine: each local
    /// policy's rendered context plus the largest `max_tokens` of any policy (whose responses it
    /// teacher-forces) and the end-of-turn token; for a local judge or oracle, the rubric around
    /// the prompt plus that response length plus its own answer. Nothing runs locally: all fit.
    func fitCheck() throws -> (PromptRecord) throws -> Bool {
        let config = context.config
        let limit = config.engine.sequenceContext
        let longest = config.policies.map(\.maxTokens).max() ?? 0
        var checks: [(PromptRecord) throws -> Bool] = []
        for policy in config.policies where policy.provider == nil {
            let engine = try context.engine(policy.model)
            checks.append { prompt in
                let tokens = try engine.promptTokens([.system(policy.systemPrompt), .user(prompt.prompt)])
                return tokens.count + longest + 1 <= limit
            }
        }
        for (scorer, rubric) in [(config.judge, Rubric.judge), (config.oracle.labeller, .oracle)]
        where scorer.provider == nil {
            let engine = try context.engine(scorer.model)
            let answer = try engine.responseTokens(rubric.answerPrefix).count + scorer.maxTokens
            checks.append { prompt in
                let tokens = try engine.promptTokens(rubric.messages(prompt: prompt.prompt, response: ""))
                return tokens.count + longest + answer <= limit
            }
        }
        return { prompt in try checks.allSatisfy { try $0(prompt) } }
    }

    /// Every usable prompt of the configured source, in source order, and how many were empty.
    private func source() async throws -> (records: [PromptRecord], empty: Int) {
        let prompts = context.config.prompts
        let filter = prompts.filter
        if let file = prompts.file { return try PromptSource.loadCounted(from: file, filter: filter) }
        guard let dataset = prompts.huggingFaceDataset else { return (PromptSource.builtin, 0) }
        var server = DatasetsServer(dataset: dataset, cacheDirectory: context.cacheRoot.appendingPathComponent("hf"))
        server.endpoint = prompts.hfEndpoint
        server.config = prompts.hfConfig
        server.split = prompts.hfSplit
        server.maxRows = prompts.maxRows
        let rowsRead = context.progress("prompts (rows read)", spend: false)
        let (rows, report) = try await server.rows(progress: { rowsRead($0, $1, 0) })
        try checkRows(rows, dataset: dataset)
        let loaded = try PromptSource.load(huggingFace: rows, dataset: dataset, filter: filter)
        context.say(
            "prompts: \(rows.count) rows of hf:\(dataset) (\(server.config)/\(server.split)): \(report.pages) pages, \(report.cachedPages) from the cache, \(report.requests) requests, \(report.retries) retried\(loaded.truncated > 0 ? ", \(loaded.truncated) rows left out because the server truncated their prompt" : "")"
        )
        return (loaded.records, loaded.empty)
    }

    /// The rows a Hugging Face source gave this run: their digest is kept in the manifest, and a
    /// later invocation that reads other rows (the dataset changed under the run) is refused.
    private func checkRows(_ rows: [Data], dataset: String) throws {
        var hash = SHA256()
        for row in rows {
            hash.update(data: row)
            hash.update(data: Data([0x0A]))
        }
        let digest =
            "\(rows.count) rows, sha256 " + hash.finalize().hex
        let kept = context.manifest.current.promptRows
        if let kept, kept != digest {
            throw PipelineError.fingerprintMismatch(
                path: context.run.root.path,
                changes: ["the rows of hf:\(dataset): \(kept) -> \(digest) (the dataset changed under the run)"])
        }
        if kept == nil {
            context.manifest.update { $0.promptRows = digest }
            try context.manifest.save()
        }
    }
}
