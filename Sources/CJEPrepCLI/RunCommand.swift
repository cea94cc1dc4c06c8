import ArgumentParser
import CJEInference
import CJELlama
import CJEPipeline
import Foundation

/// Options shared by the pipeline commands.
struct RunOptions: ParsableArguments {
    @Option(help: "The run directory.")
    var dir = "./data-run"

    @Option(help: "A YAML config (see `cje-prep init`); the built-in default when absent.")
    var config: String?

    @Option(help: "Run seed (overrides the config).")
    var seed: UInt64?

    @Option(
        help: ArgumentHelp(
            "Run shard K (from 0) of M, as K/M, into <dir>/shards/K-of-M; combine them with `cje-prep merge`.",
            discussion:
                "Without it, a Slurm array task (SLURM_ARRAY_TASK_ID) or a Kubernetes Indexed Job pod (JOB_COMPLETION_INDEX, with --shards or CJE_SHARDS) runs its own shard."
        ))
    var shard: String?

    @Option(help: "The number of shards, for a Kubernetes Indexed Job (default: $CJE_SHARDS).")
    var shards: Int?

    func load(n: Int?) throws -> PipelineConfig {
        var config = try config.map { try PipelineConfig.load(from: URL(fileURLWithPath: $0)) } ?? .default
        if let n { config.n = n }
        if let seed { config.seed = seed }
        try config.validate(path: self.config ?? "(built-in default)")
        return config
    }

    /// The shard to run and where it came from: --shard, or the scheduler's environment.
    func resolveShard() throws -> (shard: Shard, source: String)? {
        if let shard { return (try Shard.parse(shard), "--shard \(shard)") }
        return try Shard.fromEnvironment(ProcessInfo.processInfo.environment, count: shards)
    }
}

struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run every stage into the run directory, resuming whatever is already done.")

    @Argument(help: "Prompts to sample (default: the config's n).")
    var n: Int?

    @OptionGroup var options: RunOptions

    @Option(help: "Stop after this stage (prompts, generate, logprobs, judge, oracle, export, validate).")
    var through: String = Pipeline.Stage.allCases.last!.rawValue

    func validate() throws {
        if let n, n < 1 { throw ValidationError("N must be at least 1") }
        if Pipeline.Stage(rawValue: through) == nil {
            throw ValidationError(
                "--through must be one of \(Pipeline.Stage.allCases.map(\.rawValue).joined(separator: ", "))")
        }
    }

    func run() async throws {
        try await Self.execute(n: n, options: options, through: Pipeline.Stage(rawValue: through)!)
    }

    /// Runs the pipeline through `stage` (a shard through the judge at most).
    static func execute(n: Int?, options: RunOptions, through stage: Pipeline.Stage) async throws {
        let shard = try options.resolveShard()
        let command = stage == Pipeline.Stage.allCases.last! ? "run" : stage.rawValue
        try await Invocation.run(command: command, through: stage, n: n, options: options, shard: shard?.shard) {
            pipeline, log in
            if let shard {
                log.info(
                    "shard \(shard.shard) (from \(shard.source)): the prompts at ranks \(shard.shard.index), \(shard.shard.index) + \(shard.shard.count), ... of the sample, through \(min(stage, Pipeline.lastShardStage).rawValue)"
                )
            }
            try await Report.after(stage == .validate && shard == nil, run: pipeline.run, log: log) {
                _ = try await pipeline.execute(through: stage)
            }
        }
    }
}

/// `cje-prep report`: the run's report page.
struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract:
            "Write <dir>/report/index.html: one self-contained page with the run's weights, judge, oracle, estimates and stages (run and merge write it too)."
    )

    @Option(help: "The run directory.")
    var dir = "./data-run"

    func run() throws {
        let run = RunDirectory(root: URL(fileURLWithPath: dir))
        guard FileManager.default.fileExists(atPath: run.datasetInfo.path) else {
            throw ValidationError(
                "\(dir) holds no validated run (no data/dataset_info.json): run `cje-prep run` (or `merge`) to the end first"
            )
        }
        print("report: \(try ReportPage.write(run).path)")
    }
}

/// The report written after a whole run or a merge: also when validation failed (the page
/// shows why), never in place of the run's own error.
enum Report {
    static func after(_ wanted: Bool, run: RunDirectory, log: RunLog, _ body: () async throws -> Void) async throws {
        do {
            try await body()
        } catch PipelineError.validationFailed(let failures) {
            if wanted { write(run, log) }
            throw PipelineError.validationFailed(failures: failures)
        }
        if wanted { write(run, log) }
    }

    private static func write(_ run: RunDirectory, _ log: RunLog) {
        do {
            log.info("report: \(try ReportPage.write(run).path)")
        } catch {
            log.info("report: not written: \(error.localizedDescription)")
        }
    }
}

/// `cje-prep merge`: the shards of a split run into the files an unsplit run writes.
struct MergeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract:
            "Combine the finished shards of a split run into the data set of the unsplit run, then run the oracle, export and validate."
    )

    @OptionGroup var options: RunOptions

    func validate() throws {
        if options.shard != nil || options.shards != nil {
            throw ValidationError("merge takes no --shard or --shards: it merges every shard under <dir>/shards")
        }
    }

    func run() async throws {
        try await Invocation.run(command: "merge", through: .validate, n: nil, options: options, shard: nil) {
            pipeline, log in
            try await Report.after(true, run: pipeline.run, log: log) { _ = try await pipeline.merge() }
        }
    }
}

/// What every pipeline command does around its work: load the config and the models (bad input
/// fails here, before anything is written), open this invocation's log, describe the machine.
enum Invocation {
    static func run(
        command: String, through: Pipeline.Stage, n: Int?, options: RunOptions, shard: Shard?,
        body: (Pipeline, RunLog) async throws -> Void
    ) async throws {
        let config = try options.load(n: n)
        let last = shard == nil ? through : min(through, Pipeline.lastShardStage)
        if let reason = Pipeline.refusal(config, through: last) {
            throw ValidationError(reason)
        }
        try PromptSource.check(config.prompts)
        // Models on the Hugging Face Hub: from the hub cache, downloaded there on first use.
        let hub = try await HubModels.fetch(config, refresh: false, say: { print($0) })
        let engines = try EngineCache(config: config, hubFiles: hub.mapValues(\.path))
        let fingerprint = try engines.fingerprint()
        let run = RunDirectory(root: URL(fileURLWithPath: options.dir))
        let layout = shard.map(Pipeline.Layout.shard) ?? .plain
        if command != "merge" { try Pipeline.checkLayout(layout, of: run) }  // before the log makes a folder
        // One writer per run directory (per shard; a merge takes the whole directory).
        let lock = try RunLock.acquire(run, layout: command == "merge" ? .merge(frozen: []) : layout, command: command)
        defer { lock.release() }
        // Templates that read the date render the run's fixed day, whenever and wherever it resumes.
        let chatDate = try run.fixedChatDate()
        engines.chatDate = chatDate
        let logs = (shard.map { run.shard($0) } ?? run).logs
        let log = try RunLog(directory: logs, command: command)
        let signals = StopSignals(log: log)
        defer { signals.cancel() }
        LlamaLog.route { log.debug("llama.cpp: \($0)") }
        defer { LlamaLog.route(to: nil) }
        let node = NodeInfo.current
        log.info("cje-prep \(command): run directory \(run.root.path), log \(log.url.path)")
        log.debug("arguments: \(CommandLine.arguments.joined(separator: " "))")
        log.debug("config (\(options.config ?? "built-in default")), n = \(config.n): \(fingerprint.config)")
        var modelSources: [String: ModelSource] = [:]
        for (name, sha) in fingerprint.models.sorted(by: { $0.key < $1.key }) {
            let source = hub[name] ?? ModelSource(path: engines.path(of: name) ?? "?")
            modelSources[name] = source
            log.info("model \(name): \(source), sha256 \(sha)")
        }
        for name in engines.modelNames {
            guard let template = engines.info(of: name)?.chatTemplate else { continue }
            let what =
                template.renderer == .builtin
                ? "llama.cpp's built-in '\(template.name ?? "?")' (named in the config)"
                : "its own Jinja template\(template.origin == .config ? " (from the config)" : "")"
            log.debug(
                "model \(name): chat template \(what), sha256 \(template.sha256.prefix(12))\(template.readsDate ? ", rendered for \(chatDate)" : "")"
            )
        }
        log.debug("engine: \(fingerprint.engine); \(LlamaLog.systemInfo)")
        log.debug("node: \(node.host), \(node.cpu), CPU features \(node.cpuFeatures.joined(separator: " "))")
        if config.engine.threads == nil, let allotted = CPUAllotment.current() {
            log.info("engine threads: \(allotted.cpus), the CPUs allotted by the scheduler (\(allotted.source))")
        }
        for (name, provider) in config.providers.sorted(by: { $0.key < $1.key }) {
            log.debug(
                "provider \(name): model \(provider.model) at \(provider.settings.baseURLs.joined(separator: ", ")), key variable \(provider.settings.apiKeyEnv ?? "none")"
            )
        }
        var pipeline = Pipeline(
            config: config, run: run, fingerprint: fingerprint, engine: { try engines.engine(for: $0) },
            say: { log.info($0) }, debug: { log.debug($0) })
        pipeline.node = node
        pipeline.modelSources = modelSources
        pipeline.chatDate = chatDate
        pipeline.layout = layout
        let started = Date()
        do {
            try await body(pipeline, log)
            if let failure = log.failure { throw failure }
        } catch PipelineError.stopped(let signal) {
            log.info(
                String(
                    format: "stopped by %@ after %.1f s; everything finished is saved: run the same command to resume",
                    signal, Date().timeIntervalSince(started)))
            throw ExitCode(StopSignals.exitCode(signal))
        } catch {
            log.error(error.localizedDescription)
            log.info(String(format: "stopped after %.1f s: see %@", Date().timeIntervalSince(started), log.url.path))
            throw error
        }
        log.info(String(format: "done in %.1f s", Date().timeIntervalSince(started)))
    }
}

/// One llama.cpp engine per model file, made on first use and shared by every stage.
final class EngineCache: @unchecked Sendable {
    let config: PipelineConfig
    private var models: [String: LlamaModel] = [:]
    private var engines: [String: LlamaEngine] = [:]
    private var _chatDate = ChatDate.today
    private let lock = NSLock()

    /// The day engines render date-reading templates for; set before the first engine is made.
    var chatDate: ChatDate {
        get { lock.withLock { _chatDate } }
        set { lock.withLock { _chatDate = newValue } }
    }

    /// Loads every model the config names (to fingerprint them) but makes no context yet;
    /// `hubFiles` are the local files of the models on the Hugging Face Hub.
    init(config: PipelineConfig, hubFiles: [String: String] = [:]) throws {
        self.config = config
        for name in Self.usedModels(config).sorted() {
            let model = config.models[name]!
            let path = try hubFiles[name] ?? Self.path(of: name, model)
            let loaded = try LlamaModel(path: path, chatTemplate: model.chatTemplate)
            // Refused now, before anything is written, rather than when its engine is made.
            try loaded.checkBatchInvariant()
            models[name] = loaded
        }
    }

    /// The names of the models loaded, in order.
    var modelNames: [String] { models.keys.sorted() }

    /// What a loaded model says about itself.
    func info(of name: String) -> ModelInfo? { models[name]?.info }

    /// Only models something runs locally: a policy, judge or oracle on a provider needs none.
    static func usedModels(_ config: PipelineConfig) -> Set<String> {
        var used = Set(config.policies.filter { $0.provider == nil }.map(\.model))
        if config.judge.provider == nil { used.insert(config.judge.model) }
        if config.oracle.provider == nil { used.insert(config.oracle.model) }
        return used
    }

    /// The file of a configured model, once loaded.
    func path(of name: String) -> String? { models[name]?.info.path }

    func fingerprint() throws -> RunFingerprint {
        try RunFingerprint(
            config: config, models: models.mapValues(\.info.sha256), engine: LlamaEngine.buildIdentity,
            templates: models.compactMapValues(\.info.chatTemplate?.sha256))
    }

    func engine(for name: String) throws -> any TextEngine {
        lock.lock()
        defer { lock.unlock() }
        if let engine = engines[name] { return engine }
        guard let model = models[name] else { throw ValidationError("no model named '\(name)' in the config") }
        // Models that are the same file with the same template share one engine.
        if let twin = engines.first(where: {
            models[$0.key]?.info.path == model.info.path
                && models[$0.key]?.info.chatTemplate == model.info.chatTemplate
        })?.value {
            engines[name] = twin
            return twin
        }
        var options = LlamaEngineOptions(sequenceContext: config.engine.sequenceContext)
        options.maxSequences =
            config.engine.maxSequences
            ?? LlamaEngineOptions.automaticSequences(for: model, sequenceContext: config.engine.sequenceContext)
        if let threads = config.engine.threads ?? CPUAllotment.current()?.cpus { options.threads = threads }
        let engine = try LlamaEngine(model: model, options: options, chatDate: _chatDate)
        engines[name] = engine
        return engine
    }

    /// A model's file: its configured path, or for "default" the demo model.
    static func path(of name: String, _ model: ModelConfig) throws -> String {
        if let path = model.path { return (path as NSString).expandingTildeInPath }
        let environment = ProcessInfo.processInfo.environment
        if let path = environment["CJE_MODEL"], !path.isEmpty { return path }
        let cache = environment["CJE_CACHE"] ?? (NSHomeDirectory() + "/.cache/cje-prep")
        let demo = cache + "/models/SmolLM2-135M-Instruct.Q4_1.gguf"
        guard FileManager.default.fileExists(atPath: demo) else {
            throw ValidationError(
                "model '\(name)' has no path and the demo model is not at \(demo): run `scripts/bootstrap.sh model` (or `make demo`) once, or set models.\(name).path in the config"
            )
        }
        return demo
    }
}
