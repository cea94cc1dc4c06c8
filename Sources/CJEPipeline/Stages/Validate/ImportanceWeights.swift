import Foundation

/// Importance weights from log weights (log pi - log p0), scaled so the largest is 1 (exp of
/// each minus the largest): the effective sample size, the largest weight's share and the
/// self-normalised estimate, computed one way for `validate` and the report.
struct ImportanceWeights {
    let weights: [Double]
    let total: Double

    init(logWeights: [Double]) {
        let top = logWeights.max() ?? 0
        weights = logWeights.map { exp($0 - top) }
        total = weights.reduce(0, +)
    }

    /// (sum w)^2 / sum w^2, or nil without weight.
    var effectiveSampleSize: Double? {
        total > 0 ? total * total / weights.reduce(0) { $0 + $1 * $1 } : nil
    }

    /// The largest weight over the total, or nil without weight.
    var largestShare: Double? { total > 0 ? (weights.max() ?? 0) / total : nil }

    /// sum(w * y) / sum(w) over the (weight, score) pairs.
    static func selfNormalised(_ pairs: [(weight: Double, score: Double)]) -> Double? {
        let total = pairs.reduce(0.0) { $0 + $1.weight }
        return total > 0 ? pairs.reduce(0.0) { $0 + $1.weight * $1.score } / total : nil
    }
}
