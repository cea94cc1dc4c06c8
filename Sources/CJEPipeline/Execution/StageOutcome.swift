/// What writing a stage's outputs gave: the output for later stages and the counts of its report.
public struct StageOutcome<Output: Sendable>: Sendable {
    public var output: Output
    /// Items the stage is accountable for (some may have had nothing to work on).
    public var total: Int
    /// Of those, the ones without a result: null plus an error in the outputs.
    public var failed: Int
    /// Tokens the outputs hold, where the stage counts them.
    public var tokens: Int?
    /// Of the results, the ones taken from an identical computation instead of computed again.
    public var shared: Int?

    public init(output: Output, total: Int, failed: Int, tokens: Int? = nil, shared: Int? = nil) {
        self.output = output
        self.total = total
        self.failed = failed
        self.tokens = tokens
        self.shared = shared
    }
}
