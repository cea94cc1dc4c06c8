public import CJEInference
public import CJEProviders
public import Foundation

/// Everything that decides a run's numbers. A run directory keeps it in its manifest and
/// refuses to resume under another one.
public struct RunFingerprint: Codable, Sendable, Hashable {
    /// The config without `n` (which may grow) and `engine` (which changes only speed).
    public var config: String
    /// sha256 of each model file, by config name.
    public var models: [String: String]
    /// The inference engine and its version, e.g. "llama.cpp 0c1e57098".
    public var engine: String

    public init(config: String, models: [String: String], engine: String) {
        self.config = config
        self.models = models
        self.engine = engine
    }

    /// What differs from `other`, for a person.
    public func differences(from other: RunFingerprint) -> [String] {
        var out: [String] = []
        if engine != other.engine { out.append("engine: \(other.engine) -> \(engine)") }
        for name in Set(models.keys).union(other.models.keys).sorted() where models[name] != other.models[name] {
            out.append(
                "model '\(name)': sha256 \(other.models[name]?.prefix(12) ?? "none") -> \(models[name]?.prefix(12) ?? "none")"
            )
        }
        if config != other.config {
            let a = (try? JSONSerialization.jsonObject(with: Data(other.config.utf8))) as? [String: Any] ?? [:]
            let b = (try? JSONSerialization.jsonObject(with: Data(config.utf8))) as? [String: Any] ?? [:]
            for key in Set(a.keys).union(b.keys).sorted() {
                let x = a[key].flatMap {
                    try? JSONSerialization.data(withJSONObject: $0, options: [.sortedKeys, .fragmentsAllowed])
                }
                let y = b[key].flatMap {
                    try? JSONSerialization.data(withJSONObject: $0, options: [.sortedKeys, .fragmentsAllowed])
                }
                if x != y { out.append("config '\(key)' changed") }
            }
        }
        return out
    }
}

/// The run manifest: fingerprint, stage reports, times.
public struct Manifest: Codable, Sendable {
    public var tool: String
    public var fingerprint: RunFingerprint
    public var n: Int
    public var stages: [String: StageReport]
    /// Every provider's usage over every invocation of the run.
    public var providers: [String: ProviderUsage]?
    public var created: Date
    public var updated: Date
}

/// Runs the stages in order into one run directory, resuming whatever is already there.
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

    /// The config part of a fingerprint: everything but `n` (which may grow), the engine's shape
    /// and the failure policy, none of which changes a number.
    public static func configFingerprint(_ config: PipelineConfig) throws -> String {
        var stable = config
        stable.n = 0
        stable.engine = EngineConfig()
        stable.maxFailureRate = PipelineConfig.default.maxFailureRate
        stable.maxAttempts = PipelineConfig.default.maxAttempts
        stable.providers = config.providers.mapValues(\.fingerprinted)
        stable.budget = nil
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(stable), as: UTF8.self)
    }

    /// Opens (or creates) the run directory's manifest; refuses another fingerprint.
    public func openManifest() throws -> Manifest {
        let encoder = JSONDecoder()
        encoder.dateDecodingStrategy = .iso8601
        if FileManager.default.fileExists(atPath: run.manifest.path) {
            let data: Data
            do {
                data = try Data(contentsOf: run.manifest)
            } catch {
                throw PipelineError.unreadable(path: run.manifest.path, detail: error.localizedDescription)
            }
            let manifest: Manifest
            do {
                manifest = try encoder.decode(Manifest.self, from: data)
            } catch {
                throw PipelineError.malformedFile(path: run.manifest.path, detail: JSONLines.describe(error))
            }
            if manifest.fingerprint != fingerprint {
                throw PipelineError.fingerprintMismatch(
                    path: run.root.path, changes: fingerprint.differences(from: manifest.fingerprint))
            }
            return manifest
        }
        let now = Date()
        return Manifest(
            tool: "cje-prep", fingerprint: fingerprint, n: config.n, stages: [:], created: now, updated: now)
    }

    func save(_ manifest: Manifest) throws {
        var manifest = manifest
        manifest.updated = Date()
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.dateEncodingStrategy = .iso8601
        try AtomicFile.write(try encoder.encode(manifest), to: run.manifest)
    }

    /// Shared caches (Hugging Face pages): `$CJE_CACHE` or ~/.cache/cje-prep.
    public var cacheRoot = URL(
        fileURLWithPath: ProcessInfo.processInfo.environment["CJE_CACHE"] ?? (NSHomeDirectory() + "/.cache/cje-prep"))

    /// Stage 1: the first `n` prompts of the seeded ranking (a larger `n` extends the file).
    public func prompts() async throws -> [PromptRecord] {
        let source: [PromptRecord]
        let filter = PromptsStage.Filter(
            englishOnly: config.prompts.englishOnly, maxModerationScore: config.prompts.maxModerationScore)
        if config.prompts.source == "builtin" {
            source = PromptsStage.builtin
        } else if let dataset = config.prompts.huggingFaceDataset {
            var server = DatasetsServer(
                dataset: dataset, cacheDirectory: cacheRoot.appendingPathComponent("hf"))
            server.endpoint = config.prompts.hfEndpoint
            server.config = config.prompts.hfConfig
            server.split = config.prompts.hfSplit
            server.maxRows = config.prompts.maxRows
            let rowsRead = progressPrinter("prompts (rows read)")
            let (rows, report) = try await server.rows(progress: { rowsRead($0, $1, 0) })
            let loaded = try PromptsStage.load(huggingFace: rows, dataset: dataset, filter: filter)
            say(
                "prompts: \(rows.count) rows of hf:\(dataset) (\(server.config)/\(server.split)): \(report.pages) pages, \(report.cachedPages) from the cache, \(report.requests) requests, \(report.retries) retried\(loaded.truncated > 0 ? ", \(loaded.truncated) rows left out because the server truncated their prompt" : "")"
            )
            source = loaded.records
        } else {
            let path = (config.prompts.source as NSString).expandingTildeInPath
            source = try PromptsStage.load(from: URL(fileURLWithPath: path), filter: filter)
        }
        let sample = PromptsStage.sample(source, n: config.n, seed: config.seed)
        if sample.count < config.n {
            say("prompts: the source has \(sample.count) usable prompts, fewer than n = \(config.n); using all of them")
        }
        try AtomicFile.write(try JSONLines.encode(sample), to: run.prompts)
        return sample
    }

    /// The stages, in order.
    public enum Stage: String, CaseIterable, Sendable, Comparable {
        case prompts, generate, logprobs, judge, oracle, validate

        public static func < (a: Stage, b: Stage) -> Bool {
            allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
        }
    }

    /// Runs the stages in order up to and including `last`; returns their reports. A stage whose
    /// failure rate passes `max_failure_rate` throws after writing its outputs (failures stay null).
    public func execute(through last: Stage = .validate) async throws -> [StageReport] {
        if last >= .logprobs, let reason = LogprobsStage.refusal(config) { throw PipelineError.impossible(reason) }
        var manifest = try openManifest()
        manifest.n = max(manifest.n, config.n)
        let spent = (manifest.providers ?? [:]).values.reduce(0) { $0 + $1.cost }
        let hub = ProviderHub(
            configs: config.providers, cache: run.providerCache,
            ledger: SpendLedger(budget: config.budget, spent: spent))
        // A missing key fails now, not hours into the run.
        for name in usedProviders(through: last) { _ = try hub.client(name) }
        if let budget = config.budget, spent >= budget {
            throw PipelineError.impossible(
                String(
                    format: "the run's budget %.4f is already spent (%.4f); raise `budget` in the config to go on",
                    budget, spent))
        }
        try FileManager.default.createDirectory(at: run.root, withIntermediateDirectories: true)
        try save(manifest)

        let prompts = try await prompts()
        say("prompts: \(prompts.count) written to \(run.prompts.path)")
        if last == .prompts { return [] }

        var generate = GenerateStage(config: config, run: run, engine: engine)
        generate.providers = hub
        let generated = try await metered(hub, &manifest) {
            [
                try await generate.execute(
                    prompts: prompts,
                    progress: progressPrinter("generate", usedProviders(through: .generate).isEmpty ? nil : hub))
            ]
        }[0]
        try finish(generated, into: &manifest)
        if last == .generate { return [generated] }

        let responses = try JSONLines.decode(ResponsesRecord.self, from: run.responses)
        let logprobs = LogprobsStage(config: config, run: run, engine: engine)
        let scored = try await logprobs.execute(responses: responses, progress: progressPrinter("logprobs"))
        try finish(scored, into: &manifest)
        if last == .logprobs { return [generated, scored] }

        var judge = JudgeStage(config: config, run: run, engine: engine)
        judge.providers = hub
        let logprobRecords = try JSONLines.decode(LogprobsRecord.self, from: run.logprobs)
        let judged = try await metered(hub, &manifest) {
            [
                try await judge.execute(
                    responses: responses, logprobs: logprobRecords,
                    progress: progressPrinter("judge", config.judge.provider == nil ? nil : hub))
            ]
        }[0]
        try finish(judged, into: &manifest)
        if last == .judge { return [generated, scored, judged] }

        var oracle = OracleStage(config: config, run: run, engine: engine)
        oracle.providers = hub
        let labelled = try await metered(hub, &manifest) {
            try await oracle.execute(
                responses: responses, progress: { progressPrinter($0, config.oracle.provider == nil ? nil : hub) })
        }
        for report in labelled { try finish(report, into: &manifest) }
        if last == .oracle { return [generated, scored, judged] + labelled }

        let exported = try ExportStage(config: config, run: run).execute()
        say(
            "export: \(exported.written) rows in \(run.root.appendingPathComponent("cje").path), \(exported.leftOut) left out (no judge score or no P0 log prob)"
        )

        let validation = try await ValidateStage(config: config, run: run, engine: engine).execute()
        say(validation.summary)
        for (name, usage) in (manifest.providers ?? [:]).sorted(by: { $0.key < $1.key }) {
            say("provider \(name), whole run: \(usage.summary)")
        }
        if !validation.passed { throw PipelineError.validationFailed(failures: validation.failures) }
        return [generated, scored, judged] + labelled
    }

    /// The providers the stages up to `last` call.
    public func usedProviders(through last: Stage) -> [String] {
        var names = Set<String>()
        if last >= .generate { names.formUnion(config.policies.compactMap(\.provider)) }
        if last >= .judge, let name = config.judge.provider { names.insert(name) }
        if last >= .oracle, let name = config.oracle.provider { names.insert(name) }
        return names.sorted()
    }

    /// Runs a stage, adding what its providers did to the report(s) and to the run's totals
    /// in the manifest, also when the stage stops (401, budget).
    private func metered(
        _ hub: ProviderHub, _ manifest: inout Manifest, _ body: () async throws -> [StageReport]
    ) async throws -> [StageReport] {
        let before = await hub.usage()
        let outcome: Result<[StageReport], any Error>
        do { outcome = .success(try await body()) } catch { outcome = .failure(error) }
        var delta: [String: ProviderUsage] = [:]
        for (name, usage) in await hub.usage() {
            let change = usage.since(before[name] ?? ProviderUsage())
            if change.calls > 0 { delta[name] = change }
        }
        if !delta.isEmpty {
            manifest.providers = (manifest.providers ?? [:]).merging(delta, uniquingKeysWith: +)
            for (name, usage) in delta.sorted(by: { $0.key < $1.key }) { say("provider \(name): \(usage.summary)") }
            try save(manifest)
        }
        var reports = try outcome.get()
        // The oracle's two tasks share one client: the usage goes with the first task's report.
        if !delta.isEmpty, let first = reports.indices.first {
            let earlier = manifest.stages[reports[first].stage]?.usage ?? [:]
            reports[first].usage = earlier.merging(delta, uniquingKeysWith: +)
        }
        return reports
    }

    private func finish(_ report: StageReport, into manifest: inout Manifest) throws {
        manifest.stages[report.stage] = report
        try save(manifest)
        say(
            String(
                format: "%@: %d/%d done, %d failed, %.1f s", report.stage, report.succeeded, report.total,
                report.failed,
                report.seconds))
        if report.failureRate > config.maxFailureRate {
            throw PipelineError.tooManyFailures(
                stage: report.stage, failed: report.failed, total: report.total, limit: config.maxFailureRate)
        }
    }

    /// Progress lines: done/total, failures, rate and ETA over the items done in this
    /// invocation. The console gets one every `progressInterval` seconds and the last; the log all.
    /// With `hub`, the line also shows what the run has spent (and the budget).
    private func progressPrinter(_ stage: String, _ hub: ProviderHub? = nil) -> StageProgress {
        let started = Date()
        let ledger = hub?.ledger
        let (say, debug, interval) = (self.say, self.debug, progressInterval)
        let first = LockedValue<Int?>(nil)
        let lastShown = LockedValue<Date?>(nil)
        return { done, total, failed in
            let now = Date()
            let elapsed = now.timeIntervalSince(started)
            let base = first.update { $0 = $0 ?? done + failed } ?? 0
            let rate = elapsed > 0 ? Double(done + failed - base) / elapsed : 0
            let left = total - done - failed
            let eta = left == 0 ? "0 s" : rate > 0 ? String(format: "%.0f s", Double(left) / rate) : "?"
            var line = String(
                format: "%@: %d/%d done, %d failed, %.2f items/s, ETA %@", stage, done, total, failed, rate, eta)
            if let ledger {
                line += String(format: ", spent %.4f", ledger.spent)
                if let budget = ledger.budget { line += String(format: " of %.4f", budget) }
            }
            var show = false
            _ = lastShown.update { shown in
                if left == 0 || shown.map({ now.timeIntervalSince($0) >= interval }) ?? true {
                    show = true
                    shown = now
                }
            }
            if show { say(line) } else { debug(line) }
        }
    }
}

/// A value behind a lock, for progress callbacks.
final class LockedValue<T>: @unchecked Sendable {
    private var value: T
    private let lock = NSLock()

    init(_ value: T) { self.value = value }

    func update(_ body: (inout T) -> Void) -> T {
        lock.lock()
        defer { lock.unlock() }
        body(&value)
        return value
    }
}
