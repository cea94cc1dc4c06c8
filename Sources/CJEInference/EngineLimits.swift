/// The shapes and values an engine accepts. Engines enforce them on their options and requests;
/// configuration checks the same numbers when it is loaded, so a setting that an engine would
/// refuse fails at load, naming its key, instead of hours into a run.
public enum EngineLimits {
    /// Sequences one engine decodes together (one KV stream each).
    public static let sequences: ClosedRange<Int> = 1...256
    /// The fewest tokens one sequence may hold.
    public static let minimumSequenceContext = 16
    /// The most tokens one sequence may hold (far above any model this runs; a typo stops here
    /// instead of allocating a KV cache the machine does not have).
    public static let maximumSequenceContext = 1 << 20
    /// The most CPU threads an engine takes.
    public static let maximumThreads = 1024
    /// A sequence's context is rounded up to a multiple of this (batch invariance needs it).
    public static let sequenceContextGranularity = 256

    /// Generation samples at temperature T > 0 and decodes greedily at T = 0.
    public static func isGenerationTemperature(_ t: Double) -> Bool { t >= 0 && t.isFinite }

    /// Teacher forcing scores log-softmax(logits / T), which needs T > 0.
    public static func isScoringTemperature(_ t: Double) -> Bool { t > 0 && t.isFinite }
}
