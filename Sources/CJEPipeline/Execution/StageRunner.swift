import CJEProviders
import Foundation

/// Runs an `ItemStage`: loads its journal, works the items that are due (never tried, or failed
/// with attempts left) lane by lane in batches, journals each batch (synced) before the next,
/// reports progress, writes the stage's outputs from the journal, records the report and the
/// providers' usage in the manifest, and fails the stage when its failure share passes
/// `max_failure_rate` (after its outputs are written).
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
        let journal = Journal<JournalEntry<S.Value>>(url: context.run.journal(stage.name))
        var latest: [ItemKey: JournalEntry<S.Value>] = [:]
        for entry in try journal.load() { latest[entry.key] = entry }
        let items = try stage.items(for: input)
        let total = items.count

        var pending: [(item: StageItem<S.Payload>, attempt: Int)] = []
        var (succeeded, failed) = (0, 0)
        for item in items {
            if let previous = latest[item.key] {
                if stage.isFailure(previous.value) { failed += 1 } else { succeeded += 1 }
            }
            if let attempt = JournalEntry.nextAttempt(
                after: latest[item.key], failed: stage.isFailure, maxAttempts: context.config.maxAttempts)
            {
                pending.append((item, attempt))
            }
        }
        if context.frozen.contains(stage.name) {
            // Taken from the journal as it is: an item missing there is missing from the shards.
            let missing = items.filter { latest[$0.key] == nil }
            if let first = missing.first {
                throw PipelineError.shardsNotMergeable(
                    path: context.run.root.path,
                    problems: [
                        "\(missing.count) \(stage.name) item(s) are in no shard's journal, e.g. \(first.key); run every shard to the end first"
                    ])
            }
            pending = []
        }
        let usesProviders = items.contains { if case .provider = $0.lane { true } else { false } }
        let progress = context.progress(stage.name, spend: usesProviders)
        progress(succeeded, total, failed)

        var doneNow = 0
        let lanes = Dictionary(grouping: pending, by: { $0.item.lane })
        for lane in lanes.keys.sorted() {
            let work = lanes[lane]!
            let size = try max(1, stage.batchSize(on: lane))
            for start in stride(from: 0, to: work.count, by: size) {
                let batch = work[start..<min(start + size, work.count)]
                // Within a batch, progress moves as items finish (counted as done until the
                // batch's values say otherwise).
                let (succeededBefore, failedBefore) = (succeeded, failed)
                let shown = LockedValue(0)
                let result = try await stage.process(batch.map { $0.item.payload }, on: lane) { finished in
                    var changed = false
                    _ = shown.update { value in
                        changed = finished > value
                        value = max(value, finished)
                    }
                    if changed { progress(succeededBefore + finished, total, failedBefore) }
                }
                precondition(
                    result.values.count == batch.count, "\(stage.name) returned a value count unlike its batch")
                let entries = zip(batch, result.values).compactMap { pair, value in
                    value.map { JournalEntry(key: pair.item.key, attempt: pair.attempt, value: $0) }
                }
                try journal.append(entries)
                for entry in entries {
                    if let previous = latest[entry.key] {
                        if stage.isFailure(previous.value) { failed -= 1 } else { succeeded -= 1 }
                    }
                    if stage.isFailure(entry.value) { failed += 1 } else { succeeded += 1 }
                    latest[entry.key] = entry
                }
                doneNow += entries.count
                progress(succeeded, total, failed)
                if let stop = result.stop { throw stop }
            }
        }

        let outcome = try stage.write(input, values: latest.mapValues(\.value))
        let report = StageReport(
            stage: stage.name, total: outcome.total, succeeded: outcome.total - outcome.failed,
            failed: outcome.failed, doneNow: doneNow, seconds: Date().timeIntervalSince(started),
            tokens: outcome.tokens, shared: outcome.shared)
        return (outcome.output, report)
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
