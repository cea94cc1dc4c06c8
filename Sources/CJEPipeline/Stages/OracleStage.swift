public import CJEInference
import Foundation

/// A line of the oracle label files. Rows outside the labelled slice have no `y_true`; a
/// labelled row whose oracle failed has no `y_true` either, and an `error`.
public struct OracleRecord: Codable, Sendable, Hashable {
    public var promptId: String
    public var policy: String
    public var context: String
    public var response: String
    public var model: String
    public var yTrue: Double?
    public var oracleFull: JudgeValue?
    public var oracleModel: String
    public var selected: Bool
    public var error: String?

    enum CodingKeys: String, CodingKey {
        case policy, context, response, model, selected, error
        case promptId = "prompt_id"
        case yTrue = "y_true"
        case oracleFull = "oracle_full"
        case oracleModel = "oracle_model"
    }
}

/// Stage 4: oracle labels on a seeded share of P0 responses (calibration) and of target
/// responses, stratified by policy (validation). The two tasks keep separate journals.
public struct OracleStage: Sendable {
    public let config: PipelineConfig
    public let run: RunDirectory
    public let engine: @Sendable (String) throws -> any TextEngine
    /// The run's providers, for an oracle that names one.
    public var providers: ProviderHub?

    public init(
        config: PipelineConfig, run: RunDirectory, engine: @escaping @Sendable (String) throws -> any TextEngine
    ) {
        self.config = config
        self.run = run
        self.engine = engine
    }

    /// The labelled slice of one population: the `ceil(fraction * count)` smallest keys
    /// `ItemSeed(oracle.seed, task/policy, prompt_id)`.
    public func slice(_ promptIds: [String], task: String, policy: String) -> Set<String> {
        let take = Int((config.oracle.fraction * Double(promptIds.count)).rounded(.up))
        let ranked = ItemSeed.ranked(promptIds, runSeed: config.oracle.seed) { (task + "/" + policy, $0) }
        return Set(ranked.prefix(take))
    }

    /// `progress` gives the progress callback of each task's report name ("oracle_calibration", ...).
    public func execute(
        responses: [ResponsesRecord], progress: ((String) -> StageProgress)? = nil
    ) async throws -> [StageReport] {
        let logging = config.loggingPolicy
        let targets = config.policies.map(\.name).filter { $0 != logging }
        return [
            try await label(
                task: "calibration", policies: [logging], responses: responses,
                progress: progress?("oracle_calibration")),
            try await label(
                task: "validation", policies: targets, responses: responses, progress: progress?("oracle_validation")),
        ]
    }

    private func label(
        task: String, policies: [String], responses: [ResponsesRecord], progress: StageProgress?
    ) async throws -> StageReport {
        let started = Date()
        let journal = Journal<JournalEntry<JudgeValue>>(url: run.journal("oracle_\(task)"))
        var latest = GenerateStage.latest(try journal.load())
        var rows: [(record: ResponsesRecord, policy: String, response: ResponseRecord)] = []
        var selected = Set<String>()
        for policy in policies {
            let population = responses.compactMap { record in
                record.responses[policy].flatMap { $0.response == nil ? nil : (record, policy, $0) }
            }
            rows += population
            for id in slice(population.map(\.0.promptId), task: task, policy: policy) {
                selected.insert(id + "\u{0}" + policy)
            }
        }
        let pending = rows.compactMap { row -> RubricItem? in
            let key = row.record.promptId + "\u{0}" + row.policy
            guard selected.contains(key),
                let attempt = JournalEntry.nextAttempt(
                    after: latest[key], failed: { $0.scoreError != nil }, maxAttempts: config.maxAttempts)
            else { return nil }
            return RubricItem(
                promptId: row.record.promptId, policy: row.policy, prompt: row.record.prompt,
                response: row.response.response!, attempt: attempt)
        }
        let scorer = try rubricBackend(
            config.oracle, rubric: .oracle, maxTokens: config.judge.maxTokens, seed: config.oracle.seed, engine: engine,
            providers: providers)
        func report() {
            let failed = selected.filter { latest[$0]?.value.scoreError != nil }.count
            let done = selected.filter { latest[$0] != nil }.count
            progress?(done - failed, selected.count, failed)
        }
        report()
        let doneNow = try await scorer.judgeJournaled(pending, journal: journal) { entries in
            for entry in entries { latest[entry.promptId + "\u{0}" + entry.policy] = entry }
            report()
        }

        let oracleModel = scorer.modelName
        var failed = 0
        let records = rows.map { row -> OracleRecord in
            let key = row.record.promptId + "\u{0}" + row.policy
            let isSelected = selected.contains(key)
            let value = isSelected ? latest[key]?.value : nil
            if isSelected && value?.score == nil { failed += 1 }
            return OracleRecord(
                promptId: row.record.promptId, policy: row.policy, context: row.record.prompt,
                response: row.response.response!, model: row.response.model, yTrue: value?.score, oracleFull: value,
                oracleModel: oracleModel, selected: isSelected,
                error: isSelected ? (value == nil ? "not labelled" : value?.scoreError) : nil)
        }
        try AtomicFile.write(try JSONLines.encode(records), to: run.oracleLabels(task))
        try AtomicFile.write(try JSONLines.encode(records.filter(\.selected)), to: run.oracleDetailed(task))
        return StageReport(
            stage: "oracle_\(task)", total: selected.count, succeeded: selected.count - failed, failed: failed,
            doneNow: doneNow, seconds: Date().timeIntervalSince(started))
    }
}
