import CJEInference
import CJEPipeline
import CJETestSupport
import Foundation
import Testing

extension LabelDesign {
    /// The labelled prompt ids of `policy` with one draw per prompt.
    func labelled(_ policy: String, population: [(id: String, score: Double?)]) -> Set<String> {
        Set(labelled(population.map { (ItemKey(promptId: $0.id, policy: policy), $0.score) }).map(\.promptId))
    }
}

/// The label designs: which rows each labels, recomputed by hand from the seeded keys, and the
/// inclusion probability each declares, checked against the frequency over many seeds.
@Suite("Label designs")
struct LabelDesignTests {
    static let sample = (0..<40).map { "q\($0)" }
    static let targets = ["pi_clone", "pi_bad"]

    static func oracle(_ design: LabelDesign.Kind, fraction: Double = 0.25, probes: Double = 0, seed: UInt64 = 7)
        -> OracleConfig
    {
        var oracle = OracleConfig()
        oracle.design = design
        oracle.fraction = fraction
        oracle.probes = probes
        oracle.seed = seed
        if design == .stratified {
            oracle.strata = [.init(below: 0.3, rate: 0.6), .init(below: 0.7, rate: 0.2), .init(below: nil, rate: 0.5)]
        }
        return oracle
    }

    /// A judge score per prompt, spread over [0, 1).
    static func score(_ id: String) -> Double { Double(Int(id.dropFirst()) ?? 0) / 40 }

    static func population(_ ids: [String] = sample) -> [(id: String, score: Double?)] {
        ids.map { ($0, score($0)) }
    }

    /// The first `count` ids by ascending `ItemSeed.derive(seed, stream, id)`, computed here.
    static func smallest(_ ids: [String], _ count: Int, seed: UInt64, stream: String) -> Set<String> {
        Set(
            ids.sorted {
                (ItemSeed.derive(runSeed: seed, policy: stream, item: $0), $0)
                    < (ItemSeed.derive(runSeed: seed, policy: stream, item: $1), $1)
            }
            .prefix(count))
    }

    @Test("original: ceil(fraction x count) smallest keys of task/policy, as the original experiment drew")
    func original() {
        let design = LabelDesign(
            oracle: Self.oracle(.original), logging: "p0", targets: Self.targets, sample: Self.sample)
        #expect(
            design.labelled("p0", population: Self.population())
                == Self.smallest(Self.sample, 10, seed: 7, stream: "calibration/p0"))
        #expect(
            design.labelled("pi_bad", population: Self.population())
                == Self.smallest(Self.sample, 10, seed: 7, stream: "validation/pi_bad"))
        // 38 rows exist: ceil(0.25 * 38) = 10 of them.
        let existing = Array(Self.sample.dropLast(2))
        #expect(
            design.labelled("pi_bad", population: Self.population(existing))
                == Self.smallest(existing, 10, seed: 7, stream: "validation/pi_bad"))
        #expect(design.propensity("pi_bad", score: 0.5, populationCount: 40) == 10.0 / 40)
        #expect(design.propensity("pi_bad", score: 0.5, populationCount: 38) == 10.0 / 38)
        #expect(design.cjeLabelDesign == "representative")
    }

    @Test("paired: one simple random sample of ceil(fraction x N) prompts, every policy's row on each")
    func paired() {
        let design = LabelDesign(
            oracle: Self.oracle(.paired, fraction: 0.3), logging: "p0", targets: Self.targets, sample: Self.sample)
        let prompts = Self.smallest(Self.sample, 12, seed: 7, stream: "paired")
        for policy in ["p0"] + Self.targets {
            #expect(design.labelled(policy, population: Self.population()) == prompts)
            #expect(design.propensity(policy, score: 0.1, populationCount: 40) == 12.0 / 40)
        }
        // A row that failed is not labelled; the others keep theirs.
        let existing = Self.sample.filter { $0 != prompts.sorted()[0] }
        #expect(
            design.labelled("p0", population: Self.population(existing)) == prompts.subtracting([prompts.sorted()[0]]))
    }

    @Test("stratified: a row is labelled when its uniform draw is below its stratum's rate")
    func stratified() {
        let design = LabelDesign(
            oracle: Self.oracle(.stratified), logging: "p0", targets: Self.targets, sample: Self.sample)
        for policy in ["p0"] + Self.targets {
            let expected = Set(
                Self.sample.filter { id in
                    let u =
                        Double(ItemSeed.derive(runSeed: 7, policy: "stratified/" + policy, item: id) >> 11) * 0x1.0p-53
                    let s = Self.score(id)
                    return u < (s < 0.3 ? 0.6 : s < 0.7 ? 0.2 : 0.5)
                })
            #expect(design.labelled(policy, population: Self.population()) == expected)
        }
        #expect(design.propensity("p0", score: 0.1, populationCount: 40) == 0.6)
        #expect(design.propensity("p0", score: 0.3, populationCount: 40) == 0.2)
        #expect(design.propensity("p0", score: 0.95, populationCount: 40) == 0.5)
        // A row without a score is never labelled.
        #expect(design.labelled("p0", population: [("q1", nil)]).isEmpty)
        #expect(design.cjeLabelDesign == "known_propensity")
    }

    @Test(
        "probes: ceil(probes x N) prompts per target, none for P0, never a labelled row of that policy",
        arguments: LabelDesign.Kind.allCases)
    func probesDisjoint(_ kind: LabelDesign.Kind) {
        let design = LabelDesign(
            oracle: Self.oracle(kind, fraction: 0.5, probes: 0.25), logging: "p0", targets: Self.targets,
            sample: Self.sample)
        #expect(design.probes("p0").isEmpty)
        for policy in Self.targets {
            let probes = design.probes(policy)
            #expect(probes.count == 10)
            #expect(probes.isDisjoint(with: design.labelled(policy, population: Self.population())))
        }
        #expect(design.probes("pi_clone") != design.probes("pi_bad"), "each target has its own probes")
    }

    /// Over many oracle seeds, how often each row of `policy` is labelled, against the propensity
    /// the design declares for it.
    @Test(
        "every design's declared propensity is each row's labelling frequency over 3,000 seeds",
        arguments: LabelDesign.Kind.allCases)
    func propensitiesAreFrequencies(_ kind: LabelDesign.Kind) {
        let seeds = 3000
        let sample = Array(Self.sample.prefix(20))
        for probes in [0.0, 0.2] {
            var hits: [String: Int] = [:]
            var declared: [String: Double] = [:]
            for seed in 0..<UInt64(seeds) {
                let design = LabelDesign(
                    oracle: Self.oracle(kind, fraction: 0.3, probes: probes, seed: seed), logging: "p0",
                    targets: Self.targets, sample: sample)
                for id in design.labelled("pi_bad", population: Self.population(sample)) { hits[id, default: 0] += 1 }
                for id in sample {
                    let p = design.propensity("pi_bad", score: Self.score(id), populationCount: sample.count)
                    #expect(declared[id].map { $0 == p } ?? true, "a propensity does not depend on the seed")
                    declared[id] = p
                }
            }
            for id in sample {
                let p = declared[id] ?? 0
                let frequency = Double(hits[id] ?? 0) / Double(seeds)
                // Five standard errors of a frequency over 3,000 draws.
                #expect(
                    abs(frequency - p) < 5 * (p * (1 - p) / Double(seeds)).squareRoot() + 1e-9,
                    "\(kind) probes \(probes) \(id): \(frequency) vs \(p)")
                #expect(p > 0 && p <= 1)
            }
        }
    }

    @Test("a stratified design without strata, or with a rate of 0, is refused naming the key")
    func refusals() throws {
        for (yaml, key) in [
            ("oracle: {design: stratified}", "oracle.strata"),
            ("oracle: {design: stratified, strata: [{below: 0.5, rate: 0}, {rate: 1}]}", "oracle.strata[0].rate"),
            (
                "oracle: {design: stratified, strata: [{below: 0.5, rate: 0.2}, {below: 0.9, rate: 1}]}",
                "oracle.strata[1].below"
            ),
            ("oracle: {design: paired, strata: [{rate: 1}]}", "oracle.strata"),
            ("oracle: {probes: 1}", "oracle.probes"),
            ("oracle: {design: random}", "design"),
        ] {
            #expect(
                performing: { _ = try PipelineConfig.parse("n: 4\n" + yaml, path: "c.yaml") },
                throws: { error in
                    error.localizedDescription.contains(key)
                })
        }
    }

    static let pairedYAML = FakeRun.yaml.replacingOccurrences(
        of: "oracle: {fraction: 0.5}", with: "oracle: {design: paired, fraction: 0.5, probes: 0.33}")
    static let stratifiedYAML = FakeRun.yaml.replacingOccurrences(
        of: "oracle: {fraction: 0.5}",
        with: "oracle: {design: stratified, strata: [{below: 0.5, rate: 0.5}, {rate: 0.8}], probes: 0.33}")

    @Test("the Direct-mode bundle: unique row ids, probes apart from the labels, a propensity per row in file order")
    func bundle() async throws {
        for (name, yaml) in [("paired", Self.pairedYAML), ("stratified", Self.stratifiedYAML)] {
            let run = try FakeRun("bundle-\(name)", yaml: yaml)
            try await run.execute()
            let design = try JSONSerialization.jsonObject(with: Data(contentsOf: run.run.labelDesign)) as? [String: Any]
            let policies = design?["policies"] as? [String: [String: Any]] ?? [:]
            var rowIds = Set<String>()
            for policy in ["p0", "pi_clone", "pi_bad"] {
                let rows = try Self.rows(run.run.freshDraws(policy))
                let propensities = policies[policy]?["propensities"] as? [Double] ?? []
                #expect(propensities.count == rows.count && propensities.allSatisfy { $0 > 0 && $0 <= 1 })
                for (row, p) in zip(rows, propensities) {
                    #expect(rowIds.insert(row["row_id"] as? String ?? "").inserted)
                    let metadata = row["metadata"] as? [String: Any]
                    #expect(metadata?["label_propensity"] as? Double == p)
                    #expect(metadata?["judge_rubric"] as? String == Rubric.judge.version)
                    #expect(row["draw_idx"] as? Int == 0)
                }
                guard policy != "p0" else {
                    #expect(!FileManager.default.fileExists(atPath: run.run.probes(policy).path))
                    continue
                }
                let probes = try Self.rows(run.run.probes(policy))
                #expect(probes.count == 2, "ceil(0.33 x 6) probe prompts")
                let labelled = Set(
                    rows.filter { $0["oracle_label"] != nil }.compactMap { $0["observation_id"] as? String })
                for probe in probes {
                    #expect(probe["oracle_label"] is Double)
                    #expect(!labelled.contains(probe["observation_id"] as? String ?? ""), "a probe never calibrates")
                }
            }
            let script = try String(contentsOf: run.run.analyzeScript, encoding: .utf8)
            #expect(script.contains("probed = [\"pi_clone\", \"pi_bad\"]"))
            let info = try JSONSerialization.jsonObject(with: Data(contentsOf: run.run.datasetInfo)) as? [String: Any]
            #expect((info?["label_design"] as? [String: Any])?["design"] as? String == name)
        }
    }

    static func rows(_ url: URL) throws -> [[String: Any]] {
        try String(contentsOf: url, encoding: .utf8).split(separator: "\n").map {
            try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] ?? [:]
        }
    }
}
