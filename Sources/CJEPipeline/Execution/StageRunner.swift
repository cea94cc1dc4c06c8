import CJEProviders
import CJEInference
import Foundation

/// Runs an `ItemStage`: loads its journal, works the items that are due (never tried, or failed
/// with attempts left and not for good) lane by lane in batches, journals each item as it
/// finishes, reports progress, stops cleanly when asked (SIGINT, SIGTERM), writes the stage's
/// outputs from the journal, records the report and the providers' usage in the manifest, and
/// fails the stage when its failure share passes `max_failure_rate` (after its outputs are
/// written).
public struct StageRunner: Sendable {
    public let context: StageContext

    public init(context: StageContext) {
        self.context = context
    }

    /// The stage's output for later stages and its report. A stop (401, unset key, budget) is
    /// rethrown after everything finished is journaled and the usage recorded; the outputs are
    /// then not written and no report is kept.
    public func run<S: ItemStage>(_ stage: S, input: S.Input) async throws -> (output: S.Output, report: StageReport) {
        let before = await context.providers.usage()
        let outcome: Result<(S.Output, StageReport), any Error>
        do { outcome = .success(try await work(stage, input)) } catch { outcome = .failure(error) }
        let usage = try await meter(since: before)
        let (output, finished) = try outcome.get()
        var report = finished
        if !usage.isEmpty { report.usage = usage }
        report = try context.manifest.record(report)
        let shared = report.shared.map { $0 > 0 ? "\($0) taken from identical values, " : "" } ?? ""
        context.say(
            String(
                format: "%@: %d/%d done, %d failed, %@%.1f s", report.stage, report.succeeded, report.total,
                report.failed, shared, report.seconds))
        if report.failureRate > context.config.maxFailureRate {
            throw PipelineError.tooManyFailures(
                stage: report.stage, failed: report.failed, total: report.total, limit: context.config.maxFailureRate)
        }
        return (output, report)
    }

    private func work<S: ItemStage>(_ stage: S, _ input: S.Input) async throws -> (S.Output, StageReport) {
        let started = Date()
        let cpuStarted = ProcessCPU.seconds
        let journal = Journal<JournalEntry<S.Value>>(url: context.run.journal(stage.name))
        var latest: [ItemKey: JournalEntry<S.Value>] = [:]
        for entry in try journal.load() { latest[entry.key] = entry }
        let items = try stage.items(for: input)
        let total = items.count

        var pending: [(item: StageItem<S.Payload>, attempt: Int)] = []
        var tally = Tally(latest: latest)
        for item in items {
            if let previous = latest[item.key] { tally.count(previous.value, stage, sign: 1) }
            if let attempt = JournalEntry.nextAttempt(
                after: latest[item.key], failed: stage.isFailure, permanent: stage.isPermanent,
                maxAttempts: context.config.maxAttempts)
            {
                pending.append((item, attempt))
            }
        }
        if context.frozen.contains(stage.name) {
            // Taken from the journal as it is: an item missing there is missing from the shards.
            let missing = items.filter { latest[$0.key] == nil }
            if stage.fillsGapsAtMerge {
                pending = missing.map { ($0, 1) }
                if !missing.isEmpty {
                    context.say(
                        "\(stage.name): \(missing.count) item(s) are in no shard's journal (responses that failed in other shards moved the slice); working them here"
                    )
                }
            } else if let first = missing.first {
                throw PipelineError.shardsNotMergeable(
                    path: context.run.root.path,
                    problems: [
                        "\(missing.count) \(stage.name) item(s) are in no shard's journal, e.g. \(first.key); run every shard to the end first"
                    ])
            } else {
                pending = []
            }
        }
        let usesProviders = items.contains { if case .provider = $0.lane { true } else { false } }
        let progress = context.progress(stage.name, spend: usesProviders)
        progress(tally.succeeded, total, tally.failed)

        let shared = LockedValue(tally)
        let engineTime = LockedValue<EngineTimings?>(nil)
        if !pending.isEmpty {
            let appender = try journal.appender()
            defer { appender.close() }
            let lanes = Dictionary(grouping: pending, by: { $0.item.lane })
            for (lane, work) in lanes.sorted(by: { $0.key < $1.key }) {
                let size = try max(1, stage.batchSize(on: lane))
                for start in stride(from: 0, to: work.count, by: size) {
                    try context.stop.check()
                    let batch = Array(work[start..<min(start + size, work.count)])
                    try await run(stage, batch, on: lane, into: appender, tally: shared, engine: engineTime) {
                        succeeded, failed in
                        progress(succeeded, total, failed)
                    }
                }
            }
        }

        let values = shared.access { $0.latest.mapValues(\.value) }
        let outcome = try stage.write(input, values: values)
        var report = StageReport(
            stage: stage.name, total: outcome.total, succeeded: outcome.total - outcome.failed,
            failed: outcome.failed, doneNow: shared.access { $0.doneNow }, seconds: Date().timeIntervalSince(started),
            tokens: outcome.tokens, shared: outcome.shared)
        report.cpuSeconds = ProcessCPU.seconds - cpuStarted
        report.engine = engineTime.current
        return (outcome.output, report)
    }

    /// Works one batch: each value is journaled as the stage reports it finished (written at
    /// once, synced at most a second later), the rest when the batch returns. On a stop only
    /// what finished is journaled (the engines abandon the rest), then `PipelineError.stopped`
    /// is thrown; a journal that cannot be written fails the stage, naming the file.
    private func run<S: ItemStage>(
        _ stage: S, _ batch: [(item: StageItem<S.Payload>, attempt: Int)], on lane: Lane,
        into appender: Journal<JournalEntry<S.Value>>.Appender, tally: LockedValue<Tally<S.Value>>,
        engine: LockedValue<EngineTimings?>, progress: @escaping @Sendable (Int, Int) -> Void
    ) async throws {
        let delivered = LockedValue<Set<Int>>([])
        let writeFailure = LockedValue<(any Error)?>(nil)
        let record: @Sendable (Int, S.Value) -> Void = { k, value in
            guard delivered.access({ $0.insert(k).inserted }), writeFailure.access({ $0 == nil }) else { return }
            let entry = JournalEntry(key: batch[k].item.key, attempt: batch[k].attempt, value: value)
            do {
                try appender.append([entry])
            } catch {
                writeFailure.update { $0 = $0 ?? error }
                return
            }
            let (succeeded, failed) = tally.access { tally in
                tally.add(entry, stage)
                return (tally.succeeded, tally.failed)
            }
            progress(succeeded, failed)
        }
        let result = try await stage.process(batch.map { $0.item.payload }, on: lane, finished: record)
        precondition(result.values.count == batch.count, "\(stage.name) returned a value count unlike its batch")
        if let time = result.engine { engine.update { $0 = $0.map { $0 + time } ?? time } }
        if !context.stop.isRequested {
            for (k, value) in result.values.enumerated() { if let value { record(k, value) } }
        }
        if let failure = writeFailure.access({ $0 }) { throw failure }
        try appender.sync()
        if let stop = result.stop { throw stop }
        try context.stop.check()
    }

    /// What the providers did since `before`: added to the run's totals in the manifest and
    /// shown, one line per provider.
    private func meter(since before: [String: ProviderUsage]) async throws -> [String: ProviderUsage] {
        var delta: [String: ProviderUsage] = [:]
        for (name, usage) in await context.providers.usage() {
            let change = usage.since(before[name] ?? ProviderUsage())
            if change.calls > 0 { delta[name] = change }
        }
        guard !delta.isEmpty else { return [:] }
        try context.manifest.add(usage: delta)
        for (name, usage) in delta.sorted(by: { $0.key < $1.key }) { context.say("provider \(name): \(usage.summary)") }
        return delta
    }
}

/// The latest journaled value of every item and the counts the progress lines show.
struct Tally<Value: Codable & Sendable & Hashable>: Sendable {
    var latest: [ItemKey: JournalEntry<Value>]
    var succeeded = 0
    var failed = 0
    /// Values journaled by this invocation.
    var doneNow = 0

    mutating func count<S: ItemStage>(_ value: Value, _ stage: S, sign: Int) where S.Value == Value {
        if stage.isFailure(value) { failed += sign } else { succeeded += sign }
    }

    mutating func add<S: ItemStage>(_ entry: JournalEntry<Value>, _ stage: S) where S.Value == Value {
        if let previous = latest[entry.key] { count(previous.value, stage, sign: -1) }
        count(entry.value, stage, sign: 1)
        latest[entry.key] = entry
        doneNow += 1
    }
}
