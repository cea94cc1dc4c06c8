/// Stage 4: oracle labels on the rows the label design draws (`LabelDesign`): P0's responses
/// (calibration), the target policies' (validation) and, with `oracle.probes`, each target's
/// held-out probes; each task with its own journal and report. A shard labels its own rows.
public struct OracleStage: PipelineStage {
    public let context: StageContext

    public init(context: StageContext) {
        self.context = context
    }

    public static let id = RunStage.oracle

    public static func providers(_ config: PipelineConfig) -> [String] { config.oracle.provider.map { [$0] } ?? [] }
    public static func models(_ config: PipelineConfig) -> [String] {
        config.oracle.provider == nil ? [config.oracle.model] : []
    }

    /// The tasks a config runs, in order (probes only when asked for).
    public static func tasks(_ config: PipelineConfig) -> [OracleTask.Kind] {
        config.oracle.probes > 0 ? [.calibration, .validation, .probes] : [.calibration, .validation]
    }

    public func run(_ data: inout RunData) async throws -> [StageReport] {
        let responses = try data.require([ResponsesRecord].self, from: .generate)
        let judged = try data.require(JudgedRecords.self, from: .judge)
        let sample = try data.require(PromptSample.self, from: .prompts)
        var scores: [ItemKey: Double] = [:]
        for record in judged.everyDrawUncertainty {
            if let score = record.judgeScore {
                scores[ItemKey(promptId: record.promptId, policy: record.policy, draw: record.drawIdx ?? 0)] = score
            }
        }
        let input = OracleInput(responses: responses, scores: scores, sample: sample.ids)
        let runner = StageRunner(context: context)
        var labels = OracleLabels()
        var reports: [StageReport] = []
        for kind in Self.tasks(context.config) {
            let (records, report) = try await runner.run(OracleTask(context: context, kind: kind), input: input)
            switch kind {
            case .calibration: labels.calibration = records
            case .validation: labels.validation = records
            case .probes: labels.probes = records
            }
            reports.append(report)
        }
        data[OracleLabels.self] = labels
        return reports
    }
}

/// Every prompt id of the whole sample, in sample order (a shard's prompts are a part of it).
public struct PromptSample: Sendable, Hashable {
    public var ids: [String]
}
