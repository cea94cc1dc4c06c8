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
        let inv = 1.0 / temperature
        var m = -Double.infinity
        for l in logits {
            let v = Double(l) * inv
            if v > m { m = v }
        }
        var sum = 0.0
        for l in logits {
            sum += exp(Double(l) * inv - m)
        }
        self.maxScaled = m
        self.logSumExp = log(sum)
        self.temperature = temperature
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
