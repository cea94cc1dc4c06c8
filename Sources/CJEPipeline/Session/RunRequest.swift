public import Foundation

/// What one invocation asks of a run directory: where, under which config, which shard, and
/// whether it runs the stages (through one) or merges the shards.
public struct RunRequest: Sendable {
    public var directory: URL
    public var config: PipelineConfig
    /// Where the config came from, for messages and the log: its path or "(built-in default)".
    public var configName: String
    /// Run this shard of a split run (into `shards/K-of-M`).
    public var shard: Shard?
    /// Where the shard came from, for the log: "--shard 1/3", "SLURM_ARRAY_TASK_ID=1", ...
    public var shardSource: String?
    /// The last stage to run (a shard stops at `RunStage.lastInShard`).
    public var through: RunStage
    /// Merge the shards under the directory instead of running stages.
    public var isMerge: Bool

    public init(
        directory: URL, config: PipelineConfig, configName: String = "(built-in default)",
        through: RunStage = .validate, shard: Shard? = nil, shardSource: String? = nil, merge: Bool = false
    ) {
        self.directory = directory
        self.config = config
        self.configName = configName
        self.through = through
        self.shard = shard
        self.shardSource = shardSource
        self.isMerge = merge
    }

    /// The name the lock and the log give this invocation: "run", "merge" or the last stage's.
    public var commandName: String {
        if isMerge { return "merge" }
        return through == RunStage.allCases.last ? "run" : through.rawValue
    }

    /// The config at `path` (the built-in default when nil), with `n` and `seed` overriding
    /// its own, checked.
    public static func loadConfig(path: String?, n: Int? = nil, seed: UInt64? = nil) throws -> PipelineConfig {
        var config = try path.map { try PipelineConfig.load(from: URL(fileURLWithPath: $0)) } ?? .default
        if let n { config.n = n }
        if let seed { config.seed = seed }
        try config.validate(path: path ?? "(built-in default)")
        return config
    }

    /// The config a split run's shards were made with, from their manifests (what decides the
    /// numbers; engine shape, failure policy and budget at their defaults), for a merge given no
    /// config. A provider the merge would call has no endpoint there: then the config is needed.
    public static func shardsConfig(of directory: URL) throws -> PipelineConfig {
        let run = RunDirectory(root: directory)
        guard
            let first = run.shards.first(where: { FileManager.default.fileExists(atPath: run.shard($0).manifest.path) })
        else {
            throw PipelineError.shardsNotMergeable(
                path: run.root.path,
                problems: [
                    "it holds no started shard (\(run.shardsFolder.path) is empty or missing); run `cje-prep run N --shard K/M --dir \(run.root.path)` for K = 0 ... M-1 first"
                ])
        }
        let manifest = try Manifest.read(from: run.shard(first).manifest)
        var config: PipelineConfig
        do {
            config = try PipelineConfig.stored(manifest.fingerprint.config)
        } catch {
            throw PipelineError.malformedFile(
                path: run.shard(first).manifest.path,
                detail: "its fingerprint's config cannot be read (\(error.localizedDescription)); merge with --config")
        }
        config.n = manifest.outcome?.n ?? manifest.n
        let remote = Set(Pipeline.plan.filter { $0.id > RunStage.lastInShard }.flatMap { $0.providers(config) })
        if let name = remote.sorted().first {
            throw PipelineError.impossible(
                "the merge calls provider '\(name)', whose endpoint and key variable the shards' manifests do not keep: merge with --config (the config the shards ran with)"
            )
        }
        return config
    }
}
