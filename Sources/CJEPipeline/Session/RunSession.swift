public import CJEInference
public import Foundation

/// One invocation's hold on a run directory, and the library's entry point: `open` checks the
/// config, what the stages refuse and the directory's layout once, fetches and loads the models,
/// takes the directory's lock, fixes the run's chat date, opens the invocation's log and turns
/// SIGINT/SIGTERM into a stop request; `run`, `merge` and `report` do the work; `close` gives
/// it all back. Nothing is written before every check has passed.
///
/// ```swift
/// let request = try RunRequest(directory: URL(fileURLWithPath: "runs/a"), config: config)
/// let session = try await RunSession.open(request, models: loader)
/// defer { session.close() }
/// let reports = try await session.run()
/// ```
public final class RunSession: Sendable {
    public let request: RunRequest
    public let run: RunDirectory
    public let fingerprint: RunFingerprint
    /// The day date-reading chat templates render (`chat-date`, fixed by the run's first invocation).
    public let chatDate: ChatDate
    /// This invocation's log (`logs/` of the run, or of the shard).
    public let log: RunLog
    /// The pipeline as this invocation runs it.
    package let pipeline: Pipeline
    private let lock: RunLock
    private let signals: StopSignals?
    private let models: any LocalModels

    /// Opens `request.directory` for `request.command`; `models` loads the local models the plan
    /// uses, `providers` makes the providers' clients. `say` gets what is printed before the log exists (downloads). With `signals`, the
    /// first SIGINT/SIGTERM asks the run to stop and a second exits at once.
    public static func open(
        _ request: RunRequest, models loader: LocalModelLoader,
        providers: @escaping ProviderHub.Factory = ProviderHub.openAI(), signals handleSignals: Bool = true,
        say: @escaping @Sendable (String) -> Void = { print($0) }
    ) async throws -> RunSession {
        let config = request.config
        let through = request.shard == nil ? request.through : min(request.through, RunStage.lastInShard)
        if let reason = Pipeline.refusal(config, through: through) { throw RunRefusal(reason: reason) }
        try PromptSource.check(config.prompts)
        // Models on the Hugging Face Hub: from the hub cache, downloaded there on first use.
        let hub = try await HubModels.fetch(config, refresh: false, say: say)
        var files: [String: String] = [:]
        for name in Pipeline.localModels(config).sorted() {
            guard let model = config.models[name] else { continue }
            files[name] = try hub[name]?.path ?? ModelFiles.path(of: name, model)
        }
        let loading = Date()
        let models = try loader(config, files)
        let loadSeconds = Date().timeIntervalSince(loading)
        let infos = models.infos
        let fingerprint = try RunFingerprint(
            config: config, models: infos.mapValues(\.sha256), engine: models.engineIdentity,
            templates: infos.compactMapValues(\.chatTemplate?.sha256))
        let run = RunDirectory(root: request.directory)
        let layout = request.shard.map(RunLayout.shard) ?? .plain
        if !request.isMerge { try Pipeline.checkLayout(layout, of: run) }  // before the log makes a folder
        // One writer per run directory (per shard; a merge takes the whole directory).
        let lock = try RunLock.acquire(
            run, layout: request.isMerge ? .merge(frozen: []) : layout, command: request.commandName)
        do {
            // Templates that read the date render the run's fixed day, whenever and wherever it resumes.
            let chatDate = try run.fixedChatDate(today: try ChatDate.forNewRun())
            let log = try RunLog(
                directory: (request.shard.map { run.shard($0) } ?? run).logs, command: request.commandName)
            let node = NodeInfo.current(build: models.engineIdentity)
            var sources: [String: ModelSource] = [:]
            for (name, info) in infos { sources[name] = hub[name] ?? ModelSource(path: info.path) }
            let engines = models
            var settings = Pipeline.Settings()
            settings.node = node
            settings.modelSources = sources
            settings.chatDate = chatDate
            settings.modelLoadSeconds = loadSeconds
            settings.layout = layout
            settings.providerFactory = providers
            let pipeline = Pipeline(
                config: config, run: run, fingerprint: fingerprint,
                engine: { try engines.engine(for: $0, chatDate: chatDate) }, say: { log.info($0) },
                debug: { log.debug($0) }, settings: settings)
            let session = RunSession(
                request: request, run: run, fingerprint: fingerprint, chatDate: chatDate, log: log, pipeline: pipeline,
                lock: lock, signals: handleSignals ? StopSignals(log: log) : nil, models: models)
            models.routeLog { log.debug("llama.cpp: \($0)") }
            session.describe(node: node, sources: sources)
            return session
        } catch {
            lock.release()
            throw error
        }
    }

    private init(
        request: RunRequest, run: RunDirectory, fingerprint: RunFingerprint, chatDate: ChatDate, log: RunLog,
        pipeline: Pipeline, lock: RunLock, signals: StopSignals?, models: any LocalModels
    ) {
        self.request = request
        self.run = run
        self.fingerprint = fingerprint
        self.chatDate = chatDate
        self.log = log
        self.pipeline = pipeline
        self.lock = lock
        self.signals = signals
        self.models = models
    }

    /// Releases the lock, the signals and the engine's log.
    public func close() {
        models.routeLog(to: nil)
        signals?.cancel()
        lock.release()
    }

    /// Runs the request: the stages through `request.through` (a shard through the judge at
    /// most), or the merge of the shards; the report page after a whole run or a merge, also
    /// when validation failed. A stop by a signal throws `PipelineError.stopped` once the log
    /// says how to resume.
    @discardableResult
    public func run() async throws -> [StageReport] {
        if let shard = request.shard {
            let last = min(request.through, RunStage.lastInShard)
            log.info(
                "shard \(shard) (from \(request.shardSource ?? "--shard")): the prompts at ranks \(shard.index), \(shard.index) + \(shard.count), ... of the sample, through \(last.rawValue)"
            )
        }
        let wantsReport = request.isMerge || (request.through == .validate && request.shard == nil)
        return try await timed {
            try await Self.reporting(wantsReport, run: run, log: log) { [pipeline, request] in
                request.isMerge ? try await pipeline.merge() : try await pipeline.execute(through: request.through)
            }
        }
    }

    /// Writes `<dir>/report/index.html` for a validated run; returns its file.
    public static func report(_ run: RunDirectory) throws -> URL {
        guard FileManager.default.fileExists(atPath: run.datasetInfo.path) else {
            throw PipelineError.impossible(
                "\(run.root.path) holds no validated run (no data/dataset_info.json): run `cje-prep run` (or `merge`) to the end first"
            )
        }
        return try ReportPage.write(run)
    }

    /// `body`, timed and logged: how long it took, and on a failure what and where to look.
    private func timed(_ body: () async throws -> [StageReport]) async throws -> [StageReport] {
        let started = Date()
        let reports: [StageReport]
        do {
            reports = try await body()
            if let failure = log.failure { throw failure }
        } catch PipelineError.stopped(let signal) {
            log.info(
                String(
                    format: "stopped by %@ after %.1f s; everything finished is saved: run the same command to resume",
                    signal, Date().timeIntervalSince(started)))
            throw PipelineError.stopped(signal: signal)
        } catch {
            log.error(error.localizedDescription)
            log.info(String(format: "stopped after %.1f s: see %@", Date().timeIntervalSince(started), log.url.path))
            throw error
        }
        log.info(String(format: "done in %.1f s", Date().timeIntervalSince(started)))
        return reports
    }

    /// The report written after a whole run or a merge: also when validation failed (the page
    /// shows why), never in place of the run's own error.
    private static func reporting(
        _ wanted: Bool, run: RunDirectory, log: RunLog, _ body: () async throws -> [StageReport]
    ) async throws -> [StageReport] {
        let reports: [StageReport]
        do {
            reports = try await body()
        } catch PipelineError.validationFailed(let failures) {
            if wanted { write(run, log) }
            throw PipelineError.validationFailed(failures: failures)
        }
        if wanted { write(run, log) }
        return reports
    }

    private static func write(_ run: RunDirectory, _ log: RunLog) {
        do {
            log.info("report: \(try ReportPage.write(run).path)")
        } catch {
            log.info("report: not written: \(error.localizedDescription)")
        }
    }

    /// The log's head: the invocation, its config, models, templates, engine, machine, providers.
    private func describe(node: NodeInfo, sources: [String: ModelSource]) {
        let config = request.config
        log.info("cje-prep \(request.commandName): run directory \(run.root.path), log \(log.url.path)")
        log.debug("arguments: \(CommandLine.arguments.joined(separator: " "))")
        log.debug("config (\(request.configName)), n = \(config.n): \(fingerprint.config)")
        for (name, sha) in fingerprint.models.sorted(by: { $0.key < $1.key }) {
            log.info("model \(name): \(sources[name].map(String.init(describing:)) ?? "?"), sha256 \(sha)")
        }
        for (name, info) in models.infos.sorted(by: { $0.key < $1.key }) {
            guard let template = info.chatTemplate else { continue }
            let what =
                template.renderer == .builtin
                ? "llama.cpp's built-in '\(template.name ?? "?")' (named in the config)"
                : "its own Jinja template\(template.origin == .config ? " (from the config)" : "")"
            log.debug(
                "model \(name): chat template \(what), sha256 \(template.sha256.prefix(12))\(template.readsDate ? ", rendered for \(chatDate)" : "")"
            )
        }
        log.debug("engine: \(fingerprint.engine); \(models.systemInfo)")
        log.debug("node: \(node.host), \(node.cpu), CPU features \(node.cpuFeatures.joined(separator: " "))")
        if config.engine.threads == nil, let allotted = CPUAllotment.current() {
            log.info("engine threads: \(allotted.cpus), the CPUs allotted by the scheduler (\(allotted.source))")
        }
        for (name, provider) in config.providers.sorted(by: { $0.key < $1.key }) {
            log.debug(
                "provider \(name): model \(provider.model) at \(provider.settings.baseURLs.joined(separator: ", ")), key variable \(provider.settings.apiKeyEnv ?? "none")"
            )
        }
    }
}

/// What the stages refuse to compute under a config (see `PipelineStage.refusal`); nothing
/// was written.
public struct RunRefusal: Error, LocalizedError, Sendable {
    public let reason: String
    public var errorDescription: String? { reason }
}
