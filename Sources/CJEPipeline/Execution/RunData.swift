/// What the stages of one invocation hand each other, in memory: each stage's output, by type
/// (`[ResponsesRecord]`, `JudgedRecords`, ...). Files are read only to resume (journals), never
/// to pass results between stages.
public struct RunData: Sendable {
    private var outputs: [ObjectIdentifier: any Sendable] = [:]

    public init() {}

    /// The output of type `T`, if a stage has produced it.
    public subscript<T: Sendable>(_ type: T.Type) -> T? {
        get { outputs[ObjectIdentifier(type)] as? T }
        set { outputs[ObjectIdentifier(type)] = newValue }
    }

    /// The output of type `T`, which `stage` produces; an error when the plan did not run it first.
    public func require<T: Sendable>(_ type: T.Type, from stage: RunStage) throws -> T {
        guard let value = self[type] else { throw PipelineError.missingInput(type: "\(T.self)", stage: stage.rawValue) }
        return value
    }
}
