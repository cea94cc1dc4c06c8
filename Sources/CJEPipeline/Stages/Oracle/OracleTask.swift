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

    /// A row of the population: one draw of one policy on one prompt of the sample, whether its
    /// response exists or not (`text` nil: generation failed).
    struct Row {
        var record: ResponsesRecord
        var policy: String
        var draw: Int
        var response: ResponseRecord
        var text: String? { response.response }
        var key: ItemKey { ItemKey(promptId: record.promptId, policy: policy, draw: draw) }
    }

    /// The population, policy by policy, and which rows are in the slice. The draw is made over
    /// the whole frame, every draw of every sampled prompt, before and whatever any response or
    /// judge score turned out to be: `original` ranks the whole sample's rows (so a shard, which
    /// sees only its own, draws exactly as an unsplit run), `stratified` draws a row without a
    /// judge score at its highest rate. A drawn row without a response stays in the slice,
    /// unlabelled and marked missing.
    func population(_ input: OracleInput) -> (rows: [Row], selected: Set<ItemKey>) {
        let design = design(sample: input.sample)
        var rows: [Row] = []
        var selected = Set<ItemKey>()
        let config = context.config
        for policy in policies {
            let population = input.responses.flatMap { record in
                record.allDraws(of: policy).map { Row(record: record, policy: policy, draw: $0, response: $1) }
            }
            rows += population
            if kind == .probes {
                let probes = design.probes(policy)
                for row in population where probes.contains(row.record.promptId) { selected.insert(row.key) }
            } else if config.oracle.design == .original {
                let draws = config.policies.first { $0.name == policy }.map { config.draws(of: $0) } ?? 1
                let frame = input.sample.flatMap { id in
                    (0..<draws).map { (key: ItemKey(promptId: id, policy: policy, draw: $0), score: Double?.none) }
                }
                let chosen = design.labelled(frame)
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
        return rows.filter { selected.contains($0.key) }.compactMap { row in
            row.text.map {
                StageItem(
                    key: row.key, lane: .of(model: oracle.model, provider: oracle.provider),
                    payload: RubricItem(prompt: row.record.prompt, response: $0))
            }
        }
    }

    /// At a merge, the shards' journals hold every label their slices drew; an item in none of
    /// them (a slice drawn before the frame rule, by a shard of an older run) is labelled there.
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
        var (total, failed) = (0, 0)
        let records = rows.map { row -> OracleRecord in
            let isSelected = selected.contains(row.key)
            let value = isSelected ? values[row.key] : nil
            var error: String?
            var failureKind: FailureKind?
            if isSelected, row.text == nil {
                // Missing upstream: counted where it failed, not as an oracle failure.
                error = "no response: \(row.response.error ?? "missing")"
                failureKind = row.response.errorKind
            } else if isSelected {
                total += 1
                if value?.score == nil { failed += 1 }
                error = value == nil ? "not labelled" : value?.scoreError
                failureKind = value?.errorKind
            }
            var record = OracleRecord(
                promptId: row.record.promptId, policy: row.policy, context: row.record.prompt, response: row.text,
                model: row.response.model, yTrue: value?.score, oracleFull: value, oracleModel: oracleModel,
                selected: isSelected, error: error, drawIdx: row.draw > 0 ? row.draw : nil)
            record.errorKind = failureKind
            record.parseOk = value?.parseOk(.oracle)
            return record
        }
        let labelled = try JSONLines.encode(records.filter(\.selected))
        try AtomicFile.write(labelled, to: context.run.oracleLabels(kind))
        try AtomicFile.write(labelled, to: context.run.oracleDetailed(kind))
        try AtomicFile.write(try JSONLines.encode(records), to: context.run.oraclePopulation(kind))
        return StageOutcome(output: records, total: total, failed: failed)
    }
}
