/// Stage 4: oracle labels on a seeded share of P0's responses (calibration) and of the target
/// policies' responses (validation), each task with its own journal and report.
public struct OracleStage: PipelineStage {
    public let context: StageContext

    public init(context: StageContext) {
        self.context = context
    }

    public static let id = Pipeline.Stage.oracle

    public static func providers(_ config: PipelineConfig) -> [String] { config.oracle.provider.map { [$0] } ?? [] }
    public static func models(_ config: PipelineConfig) -> [String] {
        config.oracle.provider == nil ? [config.oracle.model] : []
    }

    public func run(_ data: inout RunData) async throws -> [StageReport] {
        let responses = try data.require([ResponsesRecord].self, from: .generate)
        let runner = StageRunner(context: context)
        var labels = OracleLabels()
        let (calibration, first) = try await runner.run(
            OracleTask(context: context, kind: .calibration), input: responses)
        labels.calibration = calibration
        let (validation, second) = try await runner.run(
            OracleTask(context: context, kind: .validation), input: responses)
        labels.validation = validation
        data[OracleLabels.self] = labels
        return [first, second]
    }
}
