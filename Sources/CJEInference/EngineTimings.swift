import Dispatch

/// Where an engine's time went: its calls' work, the part inside the model's forward passes,
/// and how generation calls spent it (what `cje-prep bench` and `estimate` read).
public struct EngineTimings: Sendable, Hashable, Codable {
    /// Seconds from each call's start on the engine's thread to its end.
    public var work = 0.0
    /// Seconds of `work` inside the forward passes (llama_decode); the rest is the engine's own
    /// work around the model (building batches, sampling, log-softmax).
    public var decode = 0.0
    /// Generation steps in which every sequence of the engine drew a token and no context was
    /// fed: seconds (decode and sampling) and tokens drawn (the steps `llama-batched-bench` times
    /// as S_TG; the steps after some sequences ended, with fewer, are left out).
    public var stepSeconds = 0.0
    public var stepTokens = 0
    /// Generation calls, and their steps while requests were still waiting for a sequence (the
    /// engine full, new contexts fed as answers finish: what most of a long run is) and after
    /// the last one got its sequence (the call's end, where its last answers finish a few
    /// sequences at a time): seconds and tokens drawn in each.
    public var generationCalls = 0
    public var fullSeconds = 0.0
    public var fullTokens = 0
    public var drainSeconds = 0.0
    public var drainTokens = 0

    public init() {}

    /// What was added since `before`.
    public func since(_ before: EngineTimings) -> EngineTimings { combined(with: before, -, -) }

    /// The sum of two.
    public static func + (a: EngineTimings, b: EngineTimings) -> EngineTimings { a.combined(with: b, +, +) }

    /// Every field of this and `other` combined, seconds by `seconds` and counts by `counts`: the
    /// one list of the fields.
    private func combined(
        with other: EngineTimings, _ seconds: (Double, Double) -> Double, _ counts: (Int, Int) -> Int
    ) -> EngineTimings {
        var result = EngineTimings()
        result.work = seconds(work, other.work)
        result.decode = seconds(decode, other.decode)
        result.stepSeconds = seconds(stepSeconds, other.stepSeconds)
        result.stepTokens = counts(stepTokens, other.stepTokens)
        result.generationCalls = counts(generationCalls, other.generationCalls)
        result.fullSeconds = seconds(fullSeconds, other.fullSeconds)
        result.fullTokens = counts(fullTokens, other.fullTokens)
        result.drainSeconds = seconds(drainSeconds, other.drainSeconds)
        result.drainTokens = counts(drainTokens, other.drainTokens)
        return result
    }

    /// The share of the work since `before` spent outside the forward passes (0 when there was none).
    public func outsideDecode(since before: EngineTimings) -> Double {
        let delta = since(before)
        return delta.work > 0 ? 1 - delta.decode / delta.work : 0
    }

    /// Tokens per second of the generation steps since `before` (nil when there were none).
    public func stepRate(since before: EngineTimings) -> Double? {
        let delta = since(before)
        return delta.stepSeconds > 0 ? Double(delta.stepTokens) / delta.stepSeconds : nil
    }

    /// A monotonic clock in seconds.
    public static func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }
}
