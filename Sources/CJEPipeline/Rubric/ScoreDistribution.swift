import Foundation

/// Mean and variance on [0, 1] of a distribution over the scores 0..10, and the probability
/// mass it covered before normalising. The one place both local and provider judges get them.
struct ScoreDistribution: Sendable, Hashable {
    var mean: Double
    var variance: Double
    var mass: Double

    /// From unnormalised probabilities of the scores 0..10 (a provider's top log probs).
    init?(weights: [Double]) {
        let total = weights.reduce(0, +)
        guard weights.count == 11, total > 0, total.isFinite else { return nil }
        (mean, variance) = Self.moments(weights, total: total)
        mass = total
    }

    /// From the log probabilities of the eleven answers (a local model's exact distribution),
    /// normalised from the largest down so that no term underflows.
    init?(logProbs: [Double]) {
        guard logProbs.count == 11, logProbs.allSatisfy(\.isFinite), let top = logProbs.max() else { return nil }
        let weights = logProbs.map { exp($0 - top) }
        let total = weights.reduce(0, +)
        (mean, variance) = Self.moments(weights, total: total)
        mass = exp(top) * total
    }

    /// Moments of score / 10 under weights / total, summed in score order.
    private static func moments(_ weights: [Double], total: Double) -> (mean: Double, variance: Double) {
        let p = weights.map { $0 / total }
        let mean = zip(0...10, p).reduce(0.0) { $0 + Double($1.0) / 10 * $1.1 }
        let variance = zip(0...10, p).reduce(0.0) { $0 + pow(Double($1.0) / 10 - mean, 2) * $1.1 }
        return (mean, variance)
    }
}
