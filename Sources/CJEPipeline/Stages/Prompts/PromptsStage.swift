import CJEProviders
import Foundation

/// Stage 1: the first `n` prompts of the seeded ranking of the configured source, written to
/// `data/arena_prompts_10k.jsonl` (a larger `n` extends the file: the ranking does not change).
public struct PromptsStage: PipelineStage {
    public let context: StageContext

    public init(context: StageContext) {
        self.context = context
    }

    public static let id = Pipeline.Stage.prompts

    public func run(_ data: inout RunData) async throws -> [StageReport] {
        let config = context.config
        var sample = PromptSource.sample(try await source(), n: config.n, seed: config.seed)
        if sample.count < config.n {
            context.say(
                "prompts: the source has \(sample.count) usable prompts, fewer than n = \(config.n); using all of them")
        }
        var share = ""
        if let shard = context.shard {
            // The whole sample is drawn as an unsharded run draws it; the shard keeps its ranks.
            sample = sample.enumerated().filter { shard.owns(rank: $0.offset) }.map(\.element)
            share = " (shard \(shard))"
        }
        try AtomicFile.write(try JSONLines.encode(sample), to: context.run.prompts)
        context.say("prompts: \(sample.count)\(share) written to \(context.run.prompts.path)")
        data[[PromptRecord].self] = sample
        return []
    }

    /// Every usable prompt of the configured source, in source order.
    private func source() async throws -> [PromptRecord] {
        let prompts = context.config.prompts
        let filter = PromptSource.Filter(
            englishOnly: prompts.englishOnly, maxModerationScore: prompts.maxModerationScore)
        if prompts.source == "builtin" { return PromptSource.builtin }
        guard let dataset = prompts.huggingFaceDataset else {
            let path = (prompts.source as NSString).expandingTildeInPath
            return try PromptSource.load(from: URL(fileURLWithPath: path), filter: filter)
        }
        var server = DatasetsServer(dataset: dataset, cacheDirectory: context.cacheRoot.appendingPathComponent("hf"))
        server.endpoint = prompts.hfEndpoint
        server.config = prompts.hfConfig
        server.split = prompts.hfSplit
        server.maxRows = prompts.maxRows
        let rowsRead = context.progress("prompts (rows read)", spend: false)
        let (rows, report) = try await server.rows(progress: { rowsRead($0, $1, 0) })
        let loaded = try PromptSource.load(huggingFace: rows, dataset: dataset, filter: filter)
        context.say(
            "prompts: \(rows.count) rows of hf:\(dataset) (\(server.config)/\(server.split)): \(report.pages) pages, \(report.cachedPages) from the cache, \(report.requests) requests, \(report.retries) retried\(loaded.truncated > 0 ? ", \(loaded.truncated) rows left out because the server truncated their prompt" : "")"
        )
        return loaded.records
    }
}
