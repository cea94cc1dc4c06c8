import CJEInference

/// Which responses the oracle labels: a probability sample whose inclusion probability is known
/// for every row, decided from the whole sample's prompt ids and the row's own judge score only,
/// so a shard decides its own rows exactly as an unsplit run does.
///
/// A row is one draw of one policy on one prompt; its item is the prompt id for draw 0 and
/// `prompt_id#d` for draw d (`ItemKey.drawItem`).
///
/// The frame is every draw of every policy on every sampled prompt, whether its response or
/// judge score exists or not: the draw never conditions on success.
///
/// - `original`: the original experiment's slices. Each policy's population (its rows of the
///   frame, less those on its probe prompts) is ranked by `ItemSeed(oracle.seed, task/policy,
///   item)` and the first `ceil(fraction * count)` are labelled (P0's as calibration, each
///   target's as validation): a simple random sample of that size.
/// - `paired`: the first `ceil(fraction * N)` prompts of the sample ranked by
///   `ItemSeed(oracle.seed, "paired", prompt_id)`; every draw of every policy on them is labelled
///   (CJE's recommended design for comparing policies), propensity `m / N`.
/// - `stratified`: a row is labelled when `u < rate` of its judge-score stratum, `u` uniform
///   from `ItemSeed(oracle.seed, "stratified/" + policy, item)`: independent Bernoulli
///   inclusion at fixed per-stratum rates, propensity `rate` times the chance of not being a probe.
///   A row without a judge score (no response, or the judge failed) is drawn at the highest rate.
///
/// Probes (`oracle.probes > 0`): per target policy, `ceil(probes * N)` prompts drawn before the
/// labels (for `paired`, from the prompts outside the paired sample), so a probe row is never a
/// calibration row.
public struct LabelDesign: Sendable {
    public enum Kind: String, Codable, Sendable, CaseIterable {
        case original, paired, stratified
    }

    /// A judge-score stratum: scores below `below` (the last stratum has none: the rest), each of
    /// its rows labelled with probability `rate`.
    public struct Stratum: Codable, Sendable, Hashable {
        public var below: Double?
        public var rate: Double

        public init(below: Double?, rate: Double) {
            self.below = below
            self.rate = rate
        }

        enum CodingKeys: String, CodingKey, CaseIterable { case below, rate }

        public init(from decoder: any Decoder) throws {
            try decoder.rejectUnknownKeys(CodingKeys.self)
            let c = try decoder.container(keyedBy: CodingKeys.self)
            below = try c.decodeIfPresent(Double.self, forKey: .below)
            rate = try c.decode(Double.self, forKey: .rate)
        }
    }

    public let oracle: OracleConfig
    public let logging: String
    /// Every prompt id of the whole sample (every shard's), in sample order.
    public let sample: [String]
    private let pairedSet: Set<String>
    private let probeSets: [String: Set<String>]

    public init(oracle: OracleConfig, logging: String, targets: [String], sample: [String]) {
        self.oracle = oracle
        self.logging = logging
        self.sample = sample
        let n = sample.count
        var paired = Set<String>()
        if oracle.design == .paired {
            let m = Int((oracle.fraction * Double(n)).rounded(.up))
            paired = Set(ItemSeed.ranked(sample, runSeed: oracle.seed) { ("paired", $0) }.prefix(m))
        }
        pairedSet = paired
        var probes: [String: Set<String>] = [:]
        if oracle.probes > 0 {
            let q = Self.probeCount(oracle.probes, n)
            let pool = sample.filter { !paired.contains($0) }
            for policy in targets {
                probes[policy] = Set(ItemSeed.ranked(pool, runSeed: oracle.seed) { ("probe/" + policy, $0) }.prefix(q))
            }
        }
        probeSets = probes
    }

    /// The design `config` declares over the whole sample `sample`.
    public init(config: PipelineConfig, sample: [String]) {
        self.init(
            oracle: config.oracle, logging: config.loggingPolicy,
            targets: config.policies.map(\.name).filter { $0 != config.loggingPolicy }, sample: sample)
    }

    static func probeCount(_ share: Double, _ n: Int) -> Int { Int((share * Double(n)).rounded(.up)) }

    /// The prompts held out as `policy`'s transport probes (none for the logging policy).
    public func probes(_ policy: String) -> Set<String> { probeSets[policy] ?? [] }

    /// The stratum of a judge score.
    public func stratum(of score: Double) -> Int {
        let strata = oracle.strata ?? []
        return strata.firstIndex { $0.below.map { score < $0 } ?? true } ?? max(0, strata.count - 1)
    }

    /// A uniform number in [0, 1) drawn for one row.
    func uniform(_ key: ItemKey) -> Double {
        Double(ItemSeed.derive(runSeed: oracle.seed, policy: "stratified/" + key.policy, item: key.drawItem) >> 11)
            * 0x1.0p-53
    }

    /// The task a policy's labels belong to.
    public func task(of policy: String) -> OracleTask.Kind { policy == logging ? .calibration : .validation }

    /// The labelled rows of one policy, given its population: its rows of the frame (every draw)
    /// with their judge scores. For `original` the population must be the whole sample's frame
    /// (a shard's too).
    public func labelled(_ population: [(key: ItemKey, score: Double?)]) -> Set<ItemKey> {
        guard let policy = population.first?.key.policy else { return [] }
        let probes = probes(policy)
        switch oracle.design {
        case .original:
            let keys = population.map(\.key).filter { !probes.contains($0.promptId) }
            let take = Int((oracle.fraction * Double(keys.count)).rounded(.up))
            let stream = task(of: policy).rawValue + "/" + policy
            return Set(ItemSeed.ranked(keys, runSeed: oracle.seed) { (stream, $0.drawItem) }.prefix(take))
        case .paired:
            return Set(population.map(\.key).filter { pairedSet.contains($0.promptId) })
        case .stratified:
            let strata = oracle.strata ?? []
            return Set(
                population.compactMap { row in
                    guard !probes.contains(row.key.promptId), !strata.isEmpty else { return nil }
                    return uniform(row.key) < rate(score: row.score) ? row.key : nil
                })
        }
    }

    /// A stratified row's rate: its stratum's, or the highest for a row without a judge score.
    package func rate(score: Double?) -> Double {
        let strata = oracle.strata ?? []
        guard let score else { return strata.map(\.rate).max() ?? 1 }
        return strata[stratum(of: score)].rate
    }

    /// The probability that a row of `policy` is drawn for a label, before the draw: in (0, 1]
    /// for every row of the frame. For `original`, `populationCount` is the number of the
    /// policy's rows in the frame (every draw) and `probeRows` how many of them are on its probe
    /// prompts.
    public func propensity(_ policy: String, score: Double?, populationCount: Int, probeRows: Int? = nil) -> Double {
        let n = Double(sample.count)
        let q = Double(probes(policy).count)
        let kept = n > 0 ? (n - q) / n : 1
        switch oracle.design {
        case .original:
            let eligible = max(1, populationCount - (probeRows ?? Int(q)))
            let take = (oracle.fraction * Double(eligible)).rounded(.up)
            return min(1, kept * take / Double(eligible))
        case .paired:
            return n > 0 ? (oracle.fraction * n).rounded(.up) / n : 1
        case .stratified:
            guard !(oracle.strata ?? []).isEmpty else { return kept }
            return kept * rate(score: score)
        }
    }

    /// What CJE's `label_design` calls this design: a simple random sample of each policy
    /// (`representative`) or unequal known rates (`known_propensity`).
    public var cjeLabelDesign: String { oracle.design == .stratified ? "known_propensity" : "representative" }
}
