import CJEInference
import Foundation
import Testing

@Suite("Log-softmax, sampling and seeds")
struct SamplingTests {
    static let logits: [Float] = [2.0, 1.0, 0.5, -1.0, 3.0, 0.0]

    @Test("log-softmax matches the textbook formula and normalises", arguments: [0.5, 1.0, 2.0])
    func logSoftmax(temperature: Double) {
        Self.logits.withUnsafeBufferPointer { row in
            let softmax = LogSoftmax(logits: row, temperature: temperature)
            let z = Self.logits.map { exp(Double($0) / temperature) }.reduce(0, +)
            for l in Self.logits {
                #expect(abs(softmax.logProb(ofLogit: l) - (Double(l) / temperature - log(z))) < 1e-12)
            }
            let total = Self.logits.map { exp(softmax.logProb(ofLogit: $0)) }.reduce(0, +)
            #expect(abs(total - 1) < 1e-12)
        }
    }

    @Test("sampling follows softmax(logits / T), and its log prob is the scorer's to the bit")
    func samplingFrequencies() {
        let temperature = 0.7
        var counts = [Int](repeating: 0, count: Self.logits.count)
        var rng = SplitMix64(seed: 2024)
        let draws = 200_000
        Self.logits.withUnsafeBufferPointer { row in
            let scratch = UnsafeMutableBufferPointer<Double>.allocate(capacity: row.count)
            defer { scratch.deallocate() }
            let softmax = LogSoftmax(logits: row, temperature: temperature)
            for _ in 0..<draws {
                let (index, logProb) = LogSoftmax.sample(
                    logits: row, temperature: temperature, u: rng.nextUnitInterval(), scratch: scratch)
                #expect(logProb == softmax.logProb(ofLogit: row[index]))
                counts[index] += 1
            }
            for (i, count) in counts.enumerated() {
                let p = exp(softmax.logProb(ofLogit: row[i]))
                let sd = (p * (1 - p) / Double(draws)).squareRoot()
                #expect(abs(Double(count) / Double(draws) - p) < 5 * sd + 1e-9)
            }
        }
    }

    @Test("per-item seeds are a pure, platform-independent function of run seed, policy and item")
    func itemSeeds() {
        let a = ItemSeed.derive(runSeed: 42, policy: "p0", item: "arena_7")
        #expect(a == ItemSeed.derive(runSeed: 42, policy: "p0", item: "arena_7"))
        #expect(a != ItemSeed.derive(runSeed: 43, policy: "p0", item: "arena_7"))
        #expect(a != ItemSeed.derive(runSeed: 42, policy: "pi_clone", item: "arena_7"))
        #expect(a != ItemSeed.derive(runSeed: 42, policy: "p0", item: "arena_8"))
        // ("p0", "1x") and ("p01", "x") must not collide: the separator is part of the hash.
        #expect(
            ItemSeed.derive(runSeed: 1, policy: "p0", item: "1x")
                != ItemSeed.derive(runSeed: 1, policy: "p01", item: "x"))
        // A fixed value: changing the derivation would silently change every resumed run.
        #expect(ItemSeed.derive(runSeed: 0, policy: "p0", item: "a") == Self.golden)
    }

    /// Computed independently (Python) from the documented derivation: FNV-1a 64 of "p0\0a",
    /// xor the run seed, one SplitMix64 step.
    static let golden: UInt64 = 6_834_258_207_013_286_237
}
