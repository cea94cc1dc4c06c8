public import CJEInference
public import Foundation

/// This invocation's copy of the run manifest: opened once (refusing another fingerprint), then
/// changed as stages report and providers are used, and written whole after each change.
public final class ManifestStore: Sendable {
    private let url: URL
    private let state: LockedValue<Manifest>

    /// Reads the run's manifest, or starts one (nothing is written until `save`). A run made
    /// under another fingerprint is refused, naming what changed.
    public init(run: RunDirectory, fingerprint: RunFingerprint, n: Int) throws {
        url = run.manifest
        var manifest: Manifest
        if FileManager.default.fileExists(atPath: url.path) {
            manifest = try Manifest.read(from: url)
            if manifest.fingerprint != fingerprint {
                throw PipelineError.fingerprintMismatch(
                    path: run.root.path, changes: fingerprint.differences(from: manifest.fingerprint))
            }
            manifest.n = max(manifest.n, n)
        } else {
            let now = Date()
            manifest = Manifest(
                tool: "cje-prep", fingerprint: fingerprint, n: n, stages: [:], created: now, updated: now)
        }
        state = LockedValue(manifest)
    }

    /// What every provider has cost the run, over every invocation (and every merged shard).
    public var spent: Double { state.access { $0.providersOverall.values.reduce(0) { $0 + $1.cost } } }

    /// The manifest as it stands.
    public var current: Manifest { state.current }

    /// Changes the manifest (written on the next save).
    public func update(_ body: (inout Manifest) -> Void) { state.update(body) }

    /// Keeps how this invocation ended.
    public func finish(_ outcome: RunOutcome) throws {
        try state.access { manifest in
            manifest.outcome = outcome
            try manifest.write(to: url)
        }
    }

    public func save() throws {
        try state.access { try $0.write(to: url) }
    }

    /// Keeps a stage's report, adding its work and provider usage to the earlier invocations'
    /// (an invocation with nothing to do keeps what they used); returns it as kept.
    @discardableResult
    public func record(_ report: StageReport) throws -> StageReport {
        try state.access { manifest in
            var report = report
            let previous = manifest.stages[report.stage]
            report.workItems = (previous?.workItems ?? 0) + report.doneNow
            // A stage first timed before CPU time was kept has no CPU figure over all its work.
            if previous == nil || previous?.workCPUSeconds != nil {
                report.workCPUSeconds = (previous?.workCPUSeconds ?? 0) + (report.cpuSeconds ?? 0)
            }
            report.workSeconds = (previous?.workSeconds ?? 0) + report.seconds
            if let engine = report.engine {
                report.workEngine = previous?.workEngine.map { $0 + engine } ?? engine
            } else {
                report.workEngine = previous?.workEngine
            }
            let usage = (previous?.usage ?? [:]).merging(report.usage ?? [:], uniquingKeysWith: +)
            report.usage = usage.isEmpty ? nil : usage
            manifest.stages[report.stage] = report
            try manifest.write(to: url)
            return report
        }
    }

    /// Adds provider usage to the run's totals.
    public func add(usage delta: [String: ProviderUsage]) throws {
        try state.access { manifest in
            manifest.providers = (manifest.providers ?? [:]).merging(delta, uniquingKeysWith: +)
            try manifest.write(to: url)
        }
    }

    /// Checks the model id `provider` answered with against the one it answered with first in
    /// this run, keeping (and saving) it the first time; another id stops the run.
    public func served(_ provider: String, model: String) throws {
        try state.access { manifest in
            if let first = manifest.servedModels?[provider] {
                if first != model { throw ServedModelChanged(provider: provider, first: first, now: model) }
                return
            }
            manifest.servedModels = (manifest.servedModels ?? [:]).merging([provider: model]) { $1 }
            try manifest.write(to: url)
        }
    }

    /// The run's totals by provider, merged shards included.
    public var providers: [String: ProviderUsage] { state.access { $0.providersOverall } }
}

/// A provider answered with another model id than it did earlier in the run: its responses
/// would mix two models, so the run stops (everything finished is kept).
public struct ServedModelChanged: ClassifiedError, LocalizedError, Sendable, Hashable {
    public var provider: String
    public var first: String
    public var now: String
    public var failureKind: FailureKind { .fatal }

    public var errorDescription: String? {
        "provider '\(provider)' now answers with model '\(now)', but this run's earlier responses came from '\(first)' (servedModels in manifest.json): the data set would mix two models. Point the provider back at '\(first)', or start a new run directory for the new model"
    }
}
