/// How a scored file's score was made, its `judge_method`: a deterministic rule in the
/// deterministic files, where the distribution came from in the uncertainty files.
public enum JudgeMethod: String, Codable, Sendable, Hashable, CaseIterable {
    /// Deterministic: the most probable of the eleven answers (a local model).
    case argmax
    /// Deterministic: the answer at temperature 0, parsed strictly.
    case greedy
    /// Uncertainty: a local model's exact distribution over the eleven answers.
    case exactDistribution = "exact_distribution"
    /// Uncertainty, from a provider: as `UncertaintyMethod`.
    case topLogprobs = "top_logprobs"
    case confidenceInterval = "confidence_interval"
    case samples
    /// Deterministic, in files written before the rule could be chosen (read, never written).
    case deterministic

    public init(_ rule: DeterministicRule) {
        switch rule {
        case .argmax: self = .argmax
        case .greedy: self = .greedy
        }
    }

    public init(_ method: UncertaintyMethod) {
        switch method {
        case .topLogprobs: self = .topLogprobs
        case .confidenceInterval: self = .confidenceInterval
        case .samples: self = .samples
        }
    }

    /// A deterministic file's method (its records have no variance).
    public var isDeterministic: Bool { [.argmax, .greedy, .deterministic].contains(self) }
}
