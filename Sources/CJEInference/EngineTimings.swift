import Dispatch

/// Where an engine's time went: its calls' work, the part inside llama_decode, and the
/// generation steps that fed no context (the shape `llama-batched-bench` times as S_TG).
public struct EngineTimings: Sendable, Hashable {
    /// Seconds from each call's start on the llama thread to its end.
    public var work = 0.0
    /// Seconds of `work` inside llama_decode; the rest is this package's own work around the model
    /// (building batches, sampling, log-softmax).
    public var decode = 0.0
    /// Generation steps whose batch held no context token: seconds (decode and sampling) and
    /// tokens drawn.
    public var stepSeconds = 0.0
    public var stepTokens = 0

    public init() {}

    /// The share of the work since `before` spent outside llama_decode (0 when there was none).
    public func outsideDecode(since before: EngineTimings) -> Double {
        let work = self.work - before.work
        return work > 0 ? 1 - (decode - before.decode) / work : 0
    }

    /// Tokens per second of the generation steps since `before` (nil when there were none).
    public func stepRate(since before: EngineTimings) -> Double? {
        let seconds = stepSeconds - before.stepSeconds
        return seconds > 0 ? Double(stepTokens - before.stepTokens) / seconds : nil
    }

    /// A monotonic clock in seconds.
    static func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }
}
