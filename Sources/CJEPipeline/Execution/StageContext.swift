public import CJEInference
public import Foundation

/// What every stage works with, built once per invocation and handed to each: the config, the
/// run directory and its manifest, the local engines, the providers, the console and the log.
public final class StageContext: Sendable {
    public let config: PipelineConfig
    public let run: RunDirectory
    public let manifest: ManifestStore
    public let providers: ProviderHub
    /// Shared caches outside the run (Hugging Face pages).
    public let cacheRoot: URL
    /// Console progress lines come at most this often; the log gets every one.
    public let progressInterval: TimeInterval
    /// The shard this invocation runs, if the run is split.
    public let shard: Shard?
    /// Journaled stages whose items are taken from their journals as they are, never worked
    /// (a merge: the shards did the work).
    public let frozen: Set<String>
    /// Set by SIGINT/SIGTERM: no new work is taken, what finished is journaled.
    public let stop: StopFlag
    private let engines: @Sendable (String) throws -> any TextEngine
    private let sayLine: @Sendable (String) -> Void
    private let debugLine: @Sendable (String) -> Void

    public init(
        config: PipelineConfig, run: RunDirectory, manifest: ManifestStore, providers: ProviderHub,
        engine: @escaping @Sendable (String) throws -> any TextEngine, cacheRoot: URL,
        progressInterval: TimeInterval = 5, shard: Shard? = nil, frozen: Set<String> = [], stop: StopFlag = .process,
        say: @escaping @Sendable (String) -> Void, debug: @escaping @Sendable (String) -> Void = { _ in }
    ) {
        self.config = config
        self.run = run
        self.manifest = manifest
        self.providers = providers
        self.engines = engine
        self.cacheRoot = cacheRoot
        self.progressInterval = progressInterval
        self.shard = shard
        self.frozen = frozen
        self.stop = stop
        self.sayLine = say
        self.debugLine = debug
    }

    /// The engine of a model named under `models:` (made on first use, shared).
    public func engine(_ model: String) throws -> any TextEngine { try engines(model) }

    /// A line for the console and the log.
    public func say(_ line: String) { sayLine(line) }

    /// A line for the log only.
    public func debug(_ line: String) { debugLine(line) }

    /// A progress callback for `stage`; with `spend`, its lines show what the run has spent.
    func progress(_ stage: String, spend: Bool) -> StageProgress {
        ProgressPrinter(
            stage: stage, ledger: spend ? providers.ledger : nil, interval: progressInterval, say: sayLine,
            debug: debugLine
        ).callback()
    }
}
