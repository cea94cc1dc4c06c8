import CJEInference
import Foundation

/// What the oracle reads: every response of this invocation's prompts, their judge scores (the
/// exported uncertainty scores; `stratified` draws by them) and the whole sample's prompt ids
/// (a shard decides its own rows by the whole sample, as an unsplit run does).
public struct OracleInput: Sendable {
    public var responses: [ResponsesRecord]
    public var scores: [ItemKey: Double]
    public var sample: [String]

    public init(responses: [ResponsesRecord], scores: [ItemKey: Double], sample: [String]) {
        self.responses = responses
        self.scores = scores
        self.sample = sample
    }
}

/// One oracle task: labels on the rows the label design (`LabelDesign`) draws from one
/// population of responses, with its own journal (`oracle_calibration`: P0's responses;
/// `oracle_validation`: each target policy's; `oracle_probes`: each target's held-out probes).
/// Writes the labelled rows to `data/oracle_labels_<task>.jsonl` and
/// `phase2/labeling/oracle_labels_<task>_detailed.jsonl`, and every row of the population, with
/// `selected` saying which were drawn, to `phase2/labeling/oracle_population_<task>.jsonl`.
public struct OracleTask: ItemStage {
    public enum Kind: String, Sendable, CaseIterable {
        case calibration, validation, probes
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
        case .validation, .probes: return context.config.policies.map(\.name).filter { $0 != logging }
        }
    }

    /// The design over the whole sample.
    public func design(sample: [String]) -> LabelDesign { LabelDesign(config: context.config, sample: sample) }

    /// A row of the population: a response (one draw) that exists.
    struct Row {
        var record: ResponsesRecord
        var policy: String
        var draw: Int
        var response: ResponseRecord
        var text: String
        var key: ItemKey { ItemKey(promptId: record.promptId, policy: policy, draw: draw) }
    }

    /// The population, policy by policy, and which rows are in the slice. A shard sees only its
    /// own rows, so under `original` (whose slice is ranked over the rows that exist) it draws
    /// over the whole sample as if every response existed: the same slice whenever none failed;
    /// otherwise the merge labels what the shards' slices missed.
    func population(_ input: OracleInput) -> (rows: [Row], selected: Set<ItemKey>) {
        let design = design(sample: input.sample)
        var rows: [Row] = []
        var selected = Set<ItemKey>()
        let config = context.config
        for policy in policies {
            let population = input.responses.flatMap { record in
                record.allDraws(of: policy).compactMap { draw, response in
                    response.response.map {
                        Row(record: record, policy: policy, draw: draw, response: response, text: $0)
                    }
                }
            }
            rows += population
            if kind == .probes {
                let probes = design.probes(policy)
                for row in population where probes.contains(row.record.promptId) { selected.insert(row.key) }
            } else if context.shard != nil && config.oracle.design == .original {
                let draws = config.policies.first { $0.name == policy }.map { config.draws(of: $0) } ?? 1
                let nominal = input.sample.flatMap { id in
                    (0..<draws).map { (key: ItemKey(promptId: id, policy: policy, draw: $0), score: Double?.none) }
                }
                let chosen = design.labelled(nominal)
                for row in population where chosen.contains(row.key) { selected.insert(row.key) }
            } else {
                selected.formUnion(design.labelled(population.map { ($0.key, input.scores[$0.key]) }))
            }
        }
        return (rows, selected)
    }

    private var backend: any RubricBackend {
        get throws {
            try context.rubricBackend(context.config.oracle.labeller, rubric: .oracle, seed: context.config.oracle.seed)
        }
    }

    public func items(for input: OracleInput) -> [StageItem<RubricItem>] {
        let oracle = context.config.oracle
        let (rows, selected) = population(input)
        return rows.filter { selected.contains($0.key) }.map {
            StageItem(
                key: $0.key, lane: .of(model: oracle.model, provider: oracle.provider),
                payload: RubricItem(prompt: $0.record.prompt, response: $0.text))
        }
    }

    /// At a merge, the shards' journals hold every label their slices drew; an item in none of
    /// them (the slice moved because responses failed in other shards) is labelled there.
    public var fillsGapsAtMerge: Bool { true }

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

    public func write(_ input: OracleInput, values: [ItemKey: JudgeValue]) throws -> StageOutcome<[OracleRecord]> {
        let oracleModel = try backend.modelName
        let (rows, selected) = population(input)
        var failed = 0
        let records = rows.map { row -> OracleRecord in
            let isSelected = selected.contains(row.key)
            let value = isSelected ? values[row.key] : nil
            if isSelected && value?.score == nil { failed += 1 }
            return OracleRecord(
                promptId: row.record.promptId, policy: row.policy, context: row.record.prompt, response: row.text,
                model: row.response.model, yTrue: value?.score, oracleFull: value, oracleModel: oracleModel,
                selected: isSelected, error: isSelected ? (value == nil ? "not labelled" : value?.scoreError) : nil,
                drawIdx: row.draw > 0 ? row.draw : nil)
        }
        let labelled = try JSONLines.encode(records.filter(\.selected))
        try AtomicFile.write(labelled, to: context.run.oracleLabels(kind))
        try AtomicFile.write(labelled, to: context.run.oracleDetailed(kind))
        try AtomicFile.write(try JSONLines.encode(records), to: context.run.oraclePopulation(kind))
        return StageOutcome(output: records, total: selected.count, failed: failed)
    }
}
