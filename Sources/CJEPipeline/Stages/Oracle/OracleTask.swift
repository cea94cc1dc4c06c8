import CJEInference
import Foundation

/// One oracle task: labels on a seeded share of one population of responses, with its own
/// journal (`oracle_calibration`: P0's responses; `oracle_validation`: each target policy's,
/// stratified by policy). Writes the labelled rows to `data/oracle_labels_<task>.jsonl` and
/// `phase2/labeling/oracle_labels_<task>_detailed.jsonl`, and every row of the population, with
/// `selected` saying which were drawn, to `phase2/labeling/oracle_population_<task>.jsonl`.
public struct OracleTask: ItemStage {
    public enum Kind: String, Sendable, CaseIterable {
        case calibration, validation
    }

    public let context: StageContext
    public let kind: Kind

    public init(context: StageContext, kind: Kind) {
        self.context = context
        self.kind = kind
    }

    public var name: String { "oracle_\(kind)" }

    /// The policies whose responses make up the population.
    public var policies: [String] {
        let logging = context.config.loggingPolicy
        switch kind {
        case .calibration: return [logging]
        case .validation: return context.config.policies.map(\.name).filter { $0 != logging }
        }
    }

    /// The labelled slice of one policy's population: the `ceil(fraction * count)` smallest keys
    /// `ItemSeed(oracle.seed, task/policy, prompt_id)`.
    public func slice(_ promptIds: [String], policy: String) -> Set<String> {
        let oracle = context.config.oracle
        let take = Int((oracle.fraction * Double(promptIds.count)).rounded(.up))
        let ranked = ItemSeed.ranked(promptIds, runSeed: oracle.seed) { (kind.rawValue + "/" + policy, $0) }
        return Set(ranked.prefix(take))
    }

    /// A row of the population: a response that exists.
    struct Row {
        var record: ResponsesRecord
        var policy: String
        var response: ResponseRecord
        var text: String
        var key: ItemKey { ItemKey(promptId: record.promptId, policy: policy) }
    }

    /// The population, policy by policy, and which rows are in the slice.
    func population(_ responses: [ResponsesRecord]) -> (rows: [Row], selected: Set<ItemKey>) {
        var rows: [Row] = []
        var selected = Set<ItemKey>()
        for policy in policies {
            let population = responses.compactMap { record in
                record.responses[policy].flatMap { response in
                    response.response.map { Row(record: record, policy: policy, response: response, text: $0) }
                }
            }
            rows += population
            for id in slice(population.map(\.record.promptId), policy: policy) {
                selected.insert(ItemKey(promptId: id, policy: policy))
            }
        }
        return (rows, selected)
    }

    private var backend: any RubricBackend {
        get throws {
            try context.rubricBackend(context.config.oracle, rubric: .oracle, seed: context.config.oracle.seed)
        }
    }

    public func items(for responses: [ResponsesRecord]) -> [StageItem<RubricItem>] {
        let oracle = context.config.oracle
        let (rows, selected) = population(responses)
        return rows.filter { selected.contains($0.key) }.map {
            StageItem(
                key: $0.key, lane: .of(model: oracle.model, provider: oracle.provider),
                payload: RubricItem(prompt: $0.record.prompt, response: $0.text))
        }
    }

    public func isFailure(_ value: JudgeValue) -> Bool { value.scoreError != nil }

    public func batchSize(on lane: Lane) throws -> Int { try backend.batchSize }

    public func process(
        _ batch: [RubricItem], on lane: Lane, finished: @escaping @Sendable (Int, JudgeValue) -> Void
    ) async throws -> BatchResult<JudgeValue> {
        try await backend.score(batch, stop: context.stop, finished: finished)
    }

    public func isPermanent(_ value: JudgeValue) -> Bool {
        value.errorKind == .permanent
    }

    public func write(_ responses: [ResponsesRecord], values: [ItemKey: JudgeValue]) throws -> StageOutcome<
        [OracleRecord]
    > {
        let oracleModel = try backend.modelName
        let (rows, selected) = population(responses)
        var failed = 0
        let records = rows.map { row -> OracleRecord in
            let isSelected = selected.contains(row.key)
            let value = isSelected ? values[row.key] : nil
            if isSelected && value?.score == nil { failed += 1 }
            return OracleRecord(
                promptId: row.record.promptId, policy: row.policy, context: row.record.prompt, response: row.text,
                model: row.response.model, yTrue: value?.score, oracleFull: value, oracleModel: oracleModel,
                selected: isSelected, error: isSelected ? (value == nil ? "not labelled" : value?.scoreError) : nil)
        }
        let labelled = try JSONLines.encode(records.filter(\.selected))
        try AtomicFile.write(labelled, to: context.run.oracleLabels(kind))
        try AtomicFile.write(labelled, to: context.run.oracleDetailed(kind))
        try AtomicFile.write(try JSONLines.encode(records), to: context.run.oraclePopulation(kind))
        return StageOutcome(output: records, total: selected.count, failed: failed)
    }
}
