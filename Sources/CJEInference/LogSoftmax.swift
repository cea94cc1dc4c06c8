import Foundation

/// Numerically stable log-softmax pieces over one row of logits, computed in Double.
///
/// The order of every sum is fixed (index order), so the same logits always give the same bits.
public struct LogSoftmax: Sendable {
    /// The largest logit, scaled by 1/T.
    public let maxScaled: Double
    /// log(sum_i exp(l_i / T - maxScaled)).
    public let logSumExp: Double
    public let temperature: Double

    /// Prepares log-softmax(logits / temperature). `temperature` must be > 0.
    public init(logits: UnsafeBufferPointer<Float>, temperature: Double) {
        precondition(temperature > 0, "log-softmax needs a positive temperature")
        let (m, sum) = Self.normaliser(logits, inverseTemperature: 1.0 / temperature, storingExpInto: nil)
        self.maxScaled = m
        self.logSumExp = log(sum)
        self.temperature = temperature
    }

    /// The largest scaled logit m and sum_i exp(l_i / T - m), summed in index order; with
    /// `scratch`, each exponential is also stored there. The one place both the scorer's and the
    /// sampler's normaliser come from, so their log probs agree to the bit.
    private static func normaliser(
        _ logits: UnsafeBufferPointer<Float>, inverseTemperature inv: Double,
        storingExpInto scratch: UnsafeMutableBufferPointer<Double>?
    ) -> (max: Double, sum: Double) {
        var m = -Double.infinity
        for l in logits {
            let v = Double(l) * inv
            if v > m { m = v }
        }
        var sum = 0.0
        for i in logits.indices {
            let e = exp(Double(logits[i]) * inv - m)
            scratch?[i] = e
            sum += e
        }
        return (m, sum)
    }

    /// Draws from softmax(logits / temperature) by inverting the CDF in index order with the
    /// uniform `u` in [0, 1). Returns the index and its log probability, bit-identical to
    /// `LogSoftmax(logits:temperature:).logProb(ofLogit:)` of that index. `scratch` holds at
    /// least `logits.count` values; it saves computing each exponential twice.
    public static func sample(
        logits: UnsafeBufferPointer<Float>, temperature: Double, u: Double, scratch: UnsafeMutableBufferPointer<Double>
    ) -> (index: Int, logProb: Double) {
        precondition(temperature > 0 && scratch.count >= logits.count)
        let inv = 1.0 / temperature
        let (m, sum) = normaliser(logits, inverseTemperature: inv, storingExpInto: scratch)
        let target = u * sum
        var cumulative = 0.0
        var chosen = -1
        var lastPositive = 0
        for i in logits.indices {
            let e = scratch[i]
            if e > 0 { lastPositive = i }
            cumulative += e
            if target < cumulative {
                chosen = i
                break
            }
        }
        if chosen < 0 { chosen = lastPositive }
        return (chosen, Double(logits[chosen]) * inv - m - log(sum))
    }

    /// log p(token) under this distribution.
    public func logProb(ofLogit logit: Float) -> Double {
        Double(logit) * (1.0 / temperature) - maxScaled - logSumExp
    }
}

/// SplitMix64: a small, fast, platform-independent generator, so that a seed gives the same
/// stream on every machine.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) {
        state = seed
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A uniform Double in [0, 1) with 53 random bits.
    public mutating func nextUnitInterval() -> Double {
        Double(next() >> 11) * 0x1.0p-53
    }
}
