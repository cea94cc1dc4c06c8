/// Where a judge's score distribution comes from when the judge is a provider.
public enum UncertaintyMethod: String, Codable, Sendable, Hashable, CaseIterable {
    /// The endpoint's `top_logprobs` over the score tokens (a record without them fails).
    case topLogprobs = "top_logprobs"
    /// The judge states a 95% interval; variance = ((hi - lo) / 3.92 / 10)^2.
    case confidenceInterval = "confidence_interval"
    /// `samples` answers at temperature 1; their mean and variance.
    case samples
}
