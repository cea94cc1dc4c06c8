public import CJEInference
import CJEProviders
public import Foundation

/// Runs the plan, stage after stage, into one run directory, resuming whatever is already there.
/// It knows the stages only by what their types declare (which stage, which providers, why one
/// cannot run); they hand their results to each other in `RunData`.
public struct Pipeline: Sendable {
    public let config: PipelineConfig
    public let run: RunDirectory
    public let fingerprint: RunFingerprint
    public let engine: @Sendable (String) throws -> any TextEngine
    /// For the console (and the log).
    public let say: @Sendable (String) -> Void
    /// For the log only.
    public let debug: @Sendable (String) -> Void
    /// Console progress lines come at most this often; the log gets every one.
    public var progressInterval: TimeInterval = 5
    /// Shared caches (Hugging Face pages): `$CJE_CACHE` or ~/.cache/cje-prep.
    public var cacheRoot = URL(
        fileURLWithPath: ProcessInfo.processInfo.environment["CJE_CACHE"] ?? (NSHomeDirectory() + "/.cache/cje-prep"))

    public init(
        config: PipelineConfig, run: RunDirectory, fingerprint: RunFingerprint,
        engine: @escaping @Sendable (String) throws -> any TextEngine, say: @escaping @Sendable (String) -> Void,
        debug: @escaping @Sendable (String) -> Void = { _ in }
    ) {
        self.config = config
        self.run = run
        self.fingerprint = fingerprint
        self.engine = engine
        self.say = say
        self.debug = debug
    }

    /// The stages, in order.
    public enum Stage: String, CaseIterable, Sendable, Comparable {
        case prompts, generate, logprobs, judge, oracle, export, validate

        public static func < (a: Stage, b: Stage) -> Bool {
            allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
        }
    }

    /// The plan: one stage type per `Stage`, in order.
    public static let plan: [any PipelineStage.Type] = [
        PromptsStage.self, GenerateStage.self, LogprobsStage.self, JudgeStage.self, OracleStage.self,
        ExportStage.self, ValidateStage.self,
    ]

    /// Why the stages up to `last` cannot run under `config`, or nil.
    public static func refusal(_ config: PipelineConfig, through last: Stage) -> String? {
        plan.filter { $0.id <= last }.lazy.compactMap { $0.refusal(config) }.first
    }

    /// Runs the stages in order up to and including `last`; returns the reports of their
    /// journaled parts. A stage whose failure rate passes `max_failure_rate` throws after writing
    /// its outputs (failures stay null). Nothing is written before every check has passed: the
    /// fingerprint, what the stages refuse, every provider's key, the budget.
    public func execute(through last: Stage = .validate) async throws -> [StageReport] {
        let stages = Self.plan.filter { $0.id <= last }
        if let reason = Self.refusal(config, through: last) { throw PipelineError.impossible(reason) }
        let manifest = try ManifestStore(run: run, fingerprint: fingerprint, n: config.n)
        let spent = manifest.spent
        let hub = ProviderHub(
            configs: config.providers, cache: run.providerCache,
            ledger: SpendLedger(budget: config.budget, spent: spent))
        // A missing key fails now, not hours into the run.
        for name in Set(stages.flatMap { $0.providers(config) }).sorted() { _ = try hub.client(name) }
        if let budget = config.budget, spent >= budget {
            throw PipelineError.impossible(
                String(
                    format: "the run's budget %.4f is already spent (%.4f); raise `budget` in the config to go on",
                    budget, spent))
        }
        try FileManager.default.createDirectory(at: run.root, withIntermediateDirectories: true)
        try manifest.save()

        let context = StageContext(
            config: config, run: run, manifest: manifest, providers: hub, engine: engine, cacheRoot: cacheRoot,
            progressInterval: progressInterval, say: say, debug: debug)
        var data = RunData()
        var reports: [StageReport] = []
        for stage in stages {
            reports += try await stage.init(context: context).run(&data)
        }
        return reports
    }
}
