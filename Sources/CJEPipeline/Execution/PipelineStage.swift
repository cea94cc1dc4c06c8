/// One step of the pipeline's plan. A stage reads what earlier stages left in `RunData` and adds
/// its own output; `Pipeline` knows nothing else of it. Journaled per-item stages run their
/// items through `StageRunner`; the rest (prompts, export, validate) work on the whole sample.
/// What a stage needs from the config is declared on its type, so the whole plan can be checked
/// before any stage is made or anything written.
public protocol PipelineStage: Sendable {
    /// Which stage this is, for `--through` and the order of the plan.
    static var id: RunStage { get }

    /// The providers the stage calls under `config`; their keys are checked before anything runs.
    static func providers(_ config: PipelineConfig) -> [String]

    /// The local models (by config name) the stage runs under `config`: the run loads them,
    /// and no other, before anything is written.
    static func models(_ config: PipelineConfig) -> [String]

    /// Why the stage cannot run under `config`, or nil.
    static func refusal(_ config: PipelineConfig) -> String?

    init(context: StageContext)

    /// Runs the stage; returns the reports of its journaled parts.
    func run(_ data: inout RunData) async throws -> [StageReport]
}

extension PipelineStage {
    public static func providers(_ config: PipelineConfig) -> [String] { [] }
    public static func models(_ config: PipelineConfig) -> [String] { [] }
    public static func refusal(_ config: PipelineConfig) -> String? { nil }
}
