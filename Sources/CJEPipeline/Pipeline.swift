package import CJEInference
import CJEProviders
package import Foundation

/// Runs the plan, stage after stage, into one run directory, resuming whatever is already there.
/// It knows the stages only by what their types declare (which stage, which providers, why one
/// cannot run); they hand their results to each other in `RunData`.
///
/// A library's way in is `RunSession`, which checks what the plan refuses and the directory's
/// layout once, before any model is loaded or file written, and then makes and runs a pipeline;
/// only the package itself (and its tests) makes one directly.
package struct Pipeline: Sendable {
    package let config: PipelineConfig
    package let run: RunDirectory
    package let fingerprint: RunFingerprint
    package let engine: @Sendable (String) throws -> any TextEngine
    /// For the console (and the log).
    package let say: @Sendable (String) -> Void
    /// For the log only.
    package let debug: @Sendable (String) -> Void
    package let settings: Settings

    /// How an invocation runs, beside what it runs: each has the value a plain run from the
    /// command line takes unless given.
    package struct Settings: Sendable {
        /// Console progress lines come at most this often; the log gets every one.
        package var progressInterval: TimeInterval = 5
        /// Shared caches (Hugging Face pages): `$CJE_CACHE` or ~/.cache/cje-prep.
        package var cacheRoot = URL(
            fileURLWithPath: ProcessInfo.processInfo.environment["CJE_CACHE"]
                ?? (NSHomeDirectory() + "/.cache/cje-prep"))
        /// The kind of run this invocation makes in `run`.
        package var layout = RunLayout.plain
        /// The machine this runs on, for the manifest.
        package var node: NodeInfo?
        /// Where each model was loaded from, for the manifest (`Manifest.models`).
        package var modelSources: [String: ModelSource]?
        /// The day chat templates render, for the manifest (`Manifest.chatDate`).
        package var chatDate: ChatDate?
        /// Seconds the local models took to load (kept in the manifest's `parts`).
        package var modelLoadSeconds: Double?
        /// Set by SIGINT/SIGTERM (the process's flag unless a test gives its own).
        package var stop = StopFlag.process
        /// Makes the providers' clients (the real OpenAI-compatible client unless a test gives a fake).
        package var providerFactory: ProviderHub.Factory = ProviderHub.openAI()

        package init() {}
    }

    package init(
        config: PipelineConfig, run: RunDirectory, fingerprint: RunFingerprint,
        engine: @escaping @Sendable (String) throws -> any TextEngine, say: @escaping @Sendable (String) -> Void,
        debug: @escaping @Sendable (String) -> Void = { _ in }, settings: Settings = Settings()
    ) {
        self.config = config
        self.run = run
        self.fingerprint = fingerprint
        self.engine = engine
        self.say = say
        self.debug = debug
        self.settings = settings
    }

    /// The names stage reports are kept under in the manifest, in pipeline order (the oracle keeps
    /// one per task).
    package static let reportOrder = [
        "generate", "logprobs", "judge", "oracle_calibration", "oracle_validation", "oracle_probes",
    ]

    /// Reports sorted in pipeline order (names not in `reportOrder` last, by name).
    package static func inPipelineOrder<T>(_ reports: [String: T]) -> [(name: String, report: T)] {
        reports.sorted {
            (reportOrder.firstIndex(of: $0.key) ?? 99, $0.key) < (reportOrder.firstIndex(of: $1.key) ?? 99, $1.key)
        }
        .map { ($0.key, $0.value) }
    }

    /// The plan: one stage type per `RunStage`, in order.
    package static let plan: [any PipelineStage.Type] = [
        PromptsStage.self, GenerateStage.self, LogprobsStage.self, JudgeStage.self, OracleStage.self,
        ExportStage.self, ValidateStage.self,
    ]

    /// The local models the whole plan runs under `config` (a policy, judge or oracle on a
    /// provider needs none): a run loads and fingerprints these, whatever stage it stops at.
    package static func localModels(_ config: PipelineConfig) -> Set<String> {
        Set(plan.flatMap { $0.models(config) })
    }

    /// Why the stages up to `last` cannot run under `config`, or nil.
    package static func refusal(_ config: PipelineConfig, through last: RunStage) -> String? {
        plan.filter { $0.id <= last }.lazy.compactMap { $0.refusal(config) }.first
    }

    /// Runs the stages in order up to and including `last`; returns the reports of their
    /// journaled parts. A stage whose failure rate passes `max_failure_rate` throws after writing
    /// its outputs (failures stay null). Nothing is written before every check has passed: the
    /// fingerprint, every provider's key, the budget (what the stages refuse and the directory's
    /// layout `RunSession.open` checked, before loading a model).
    @discardableResult
    package func execute(through requested: RunStage = .validate) async throws -> [StageReport] {
        var last = requested
        var target = run
        var shard: Shard?
        var frozen: Set<String> = []
        switch settings.layout {
        case .plain:
            break
        case .shard(let one):
            last = min(last, RunStage.lastInShard)
            target = run.shard(one)
            shard = one
        case .merge(let journals):
            frozen = journals
        }
        let stages = Self.plan.filter { $0.id <= last }
        let manifest = try ManifestStore(run: target, fingerprint: fingerprint, n: config.n)
        let spent = manifest.spent
        // Shards run at once and cannot see each other's spending: each gets its share.
        let budget = config.budget.map { $0 / Double(shard?.count ?? 1) }
        let hub = ProviderHub(
            configs: config.providers, cache: target.providerCache, ledger: SpendLedger(budget: budget, spent: spent),
            factory: settings.providerFactory, served: { try manifest.served($0, model: $1) })
        // A missing key fails now, not hours into the run: every provider the run will call, also
        // when this invocation stops earlier (a shard calls those of its stages; a merge those
        // after the shards', where a label no shard drew is left to fill).
        let planned = Self.plan.filter { shard == nil || $0.id <= RunStage.lastInShard }
        let calling = frozen.isEmpty ? planned : planned.filter { $0.id > RunStage.lastInShard }
        for name in Set(calling.flatMap { $0.providers(config) }).sorted() { _ = try hub.client(name) }
        if let budget, spent >= budget {
            throw PipelineError.impossible(
                String(
                    format: "the %@ budget %.4f is already spent (%.4f); raise `budget` in the config to go on",
                    shard == nil ? "run's" : "shard's share of the run's", budget, spent))
        }
        try FileManager.default.createDirectory(at: target.root, withIntermediateDirectories: true)
        manifest.update {
            $0.shard = shard
            $0.node = settings.node ?? $0.node
            $0.models = settings.modelSources ?? $0.models
            $0.chatDate = settings.chatDate ?? $0.chatDate
            // Until this invocation ends: a kill leaves no outcome, not the last one's.
            $0.outcome = nil
            $0.parts = settings.modelLoadSeconds.map { ["models": $0] }
        }
        try manifest.save()

        let context = StageContext(
            config: config, run: target, manifest: manifest, providers: hub, engine: engine,
            cacheRoot: settings.cacheRoot, progressInterval: settings.progressInterval, shard: shard, frozen: frozen,
            stop: settings.stop, say: say, debug: debug)
        var data = RunData()
        var reports: [StageReport] = []
        do {
            for stage in stages {
                let started = Date()
                let made = try await stage.init(context: context).run(&data)
                reports += made
                // A stage without items has no report of its own: its seconds go to `parts`.
                if made.isEmpty {
                    let seconds = Date().timeIntervalSince(started)
                    manifest.update { $0.parts = ($0.parts ?? [:]).merging([stage.id.rawValue: seconds]) { $1 } }
                }
            }
        } catch {
            try? manifest.finish(
                RunOutcome(n: config.n, through: last.rawValue, completed: false, error: error.localizedDescription))
            throw error
        }
        try manifest.finish(RunOutcome(n: config.n, through: last.rawValue, completed: true, error: nil))
        return reports
    }

    /// Refuses a layout the run directory does not have: a plain run in a split run's directory,
    /// a shard in a plain run's, or a shard count other than the directory's. Nothing is written.
    package static func checkLayout(_ layout: RunLayout, of run: RunDirectory) throws {
        switch layout {
        case .plain: try checkUnsharded(run)
        case .shard(let shard): try checkShardable(shard, run)
        case .merge: break
        }
    }

    /// A plain run does not go into a directory that holds a split run.
    private static func checkUnsharded(_ run: RunDirectory) throws {
        let shards = run.shards
        guard let any = shards.first else { return }
        throw PipelineError.layoutMismatch(
            path: run.root.path,
            detail:
                "it holds a run split into \(any.count) shards (\(run.shardsFolder.path)); run each with --shard K/\(any.count) and combine them with `cje-prep merge`, or use another --dir for an unsharded run"
        )
    }

    /// A shard goes only into a directory that holds nothing else or shards of the same split.
    private static func checkShardable(_ shard: Shard, _ run: RunDirectory) throws {
        if FileManager.default.fileExists(atPath: run.manifest.path),
            (try Manifest.read(from: run.manifest)).shards == nil
        {
            throw PipelineError.layoutMismatch(
                path: run.root.path,
                detail:
                    "it holds an unsharded run; a shard would mix with it. Use another --dir for the split run, or run without --shard"
            )
        }
        let counts = Set(run.shards.map(\.count)).subtracting([shard.count])
        if let other = counts.sorted().first {
            throw PipelineError.layoutMismatch(
                path: run.root.path,
                detail:
                    "its run is split into \(other) shards, not \(shard.count); the shard count cannot change (prompts are dealt by rank modulo the count). Run --shard K/\(other), or start another --dir"
            )
        }
    }
}
