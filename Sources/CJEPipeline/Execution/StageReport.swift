public import CJEInference

/// How a stage went, as kept in the manifest under `stages.<name>`.
public struct StageReport: Sendable, Hashable, Codable {
    public var stage: String
    public var total: Int
    public var succeeded: Int
    public var failed: Int
    /// Items done in this invocation (the rest came from the journal).
    public var doneNow: Int
    public var seconds: Double
    /// Tokens the stage's outputs hold (generate: response tokens of every policy), if counted.
    public var tokens: Int?
    /// Results taken from an identical computation instead of computed (logprobs: the logging
    /// policy's sampled log probs, and policies whose requests equal another's).
    public var shared: Int?
    /// Items worked and seconds spent on them, summed over every invocation of the stage (what
    /// `cje-prep estimate` projects from).
    public var workItems: Int?
    public var workSeconds: Double?
    /// The process's CPU time (all threads) during this invocation's part of the stage, and
    /// summed over every invocation beside `workSeconds`: CPU seconds per wall second is how
    /// many CPUs the stage actually got.
    public var cpuSeconds: Double?
    public var workCPUSeconds: Double?
    /// Provider calls, tokens and cost, by provider, over every invocation of the stage.
    public var usage: [String: ProviderUsage]?
    /// Where the local engine's time went in this invocation, and over every invocation (a
    /// generation stage: how long its engine was full and how long its calls drained, which
    /// `estimate` projects from).
    public var engine: EngineTimings?
    public var workEngine: EngineTimings?

    public init(
        stage: String, total: Int, succeeded: Int, failed: Int, doneNow: Int, seconds: Double, tokens: Int? = nil,
        shared: Int? = nil
    ) {
        self.stage = stage
        self.total = total
        self.succeeded = succeeded
        self.failed = failed
        self.doneNow = doneNow
        self.seconds = seconds
        self.tokens = tokens
        self.shared = shared
    }

    public var failureRate: Double { total == 0 ? 0 : Double(failed) / Double(total) }
}
