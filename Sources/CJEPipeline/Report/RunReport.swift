public import CJEInference
import Foundation

/// The numbers behind a run's report page, read from the run directory's own files (manifest,
/// responses, log probs, judge scores, oracle labels, dataset_info), so `cje-prep report` works on
/// any finished run, merged or not.
public struct RunReport: Sendable {
    /// The run at a glance.
    public struct Glance: Sendable {
        public var n: Int
        public var seed: UInt64
        public var engine: String
        public var policies: [(name: String, detail: String)]
        /// Model name, sha256 prefix (12 hex digits) and where it came from (the file's name, or
        /// its Hugging Face reference and commit), when the manifest says.
        public var models: [(name: String, sha: String, source: String?)]
        public var validationPassed: Bool?
        public var validationFailures: [String]
        public var auditPairs: Int?
        public var auditMismatches: Int?
        /// Draws regenerated alone by validate's audit, and how many differed.
        public var regenerated: Int?
        public var regenerateMismatches: Int?
        /// How the labels were drawn and how many each policy has (`cje/label_design.json`).
        public var labels: String?
        /// The decision margin declared in the config before the run (nil: none declared).
        public var decisionMargin: Double?
        /// Failed items per stage, in pipeline order.
        public var failures: [(stage: String, failed: Int, total: Int)]
    }

    /// One heavy item of a target policy: its prompt and its share of the total weight.
    public struct HeavyItem: Sendable, Hashable {
        public var promptId: String
        public var excerpt: String
        public var logWeight: Double
        public var share: Double
    }

    /// Importance weights of one target policy on P0's responses.
    public struct Weights: Sendable {
        public var policy: String
        /// log pi(y|x) - log p0(y|x) for every prompt where both exist.
        public var logWeights: [Double]
        public var effectiveSampleSize: Double?
        public var largestShare: Double?
        public var heaviest: [HeavyItem]
    }

    /// A policy's judge scores and its estimates.
    public struct PolicyScores: Sendable {
        public var policy: String
        public var deterministic: [Double]
        public var uncertaintyMeans: [Double]
        /// Probability mass the judge put on the 0-10 answers (local judge), mean and minimum.
        public var massMean: Double?
        public var massMin: Double?
        /// Self-normalised estimate of the policy's mean judge score from P0's responses, with a
        /// seeded bootstrap 95% interval (target policies only; P0's own mean for P0).
        public var snips: Double?
        public var snipsLow: Double?
        public var snipsHigh: Double?
        /// Mean judge score of the policy's own responses, and the oracle mean of its labelled ones.
        public var ownJudgeMean: Double?
        public var oracleMean: Double?
        public var oracleLabels: Int
    }

    /// Judge score against oracle label, binned by judge score.
    public struct ReliabilityBin: Sendable, Hashable {
        public var low: Double
        public var high: Double
        public var count: Int
        public var judgeMean: Double
        public var oracleMean: Double
    }

    /// One stage's work.
    public struct StageRow: Sendable, Hashable {
        public var stage: String
        public var seconds: Double
        public var items: Int
        public var failed: Int
        public var tokens: Int?
        public var calls: Int
        public var retries: Int
        public var spend: Double
        public var itemsPerSecond: Double? { seconds > 0 ? Double(items) / seconds : nil }
        public var tokensPerSecond: Double? { tokens.flatMap { seconds > 0 ? Double($0) / seconds : nil } }
    }

    public var glance: Glance
    public var weights: [Weights]
    public var scores: [PolicyScores]
    public var reliability: [ReliabilityBin]
    /// Spearman rank correlation of judge score and oracle label over the labelled slices.
    public var rankCorrelation: Double?
    public var labelledPairs: Int
    public var stages: [StageRow]
    /// The largest |P0 sampled log prob - teacher-forced log prob| (0 when exact), and over how many.
    public var sampledScoredGap: Double?
    public var gapCount: Int
    /// What Direct mode compares, per policy (nil before the export wrote the bundle).
    public var direct: DirectComparison?
    /// Why the run is Direct mode only, in one sentence (nil: it has log probs for every policy).
    public var directOnly: String?
    /// Clones of the logging policy teacher-forced over HTTP: the endpoint's measured noise.
    public var cloneNoise: [String: ValidationReport.CloneNoise] = [:]

    /// Bootstrap resamples for the intervals.
    public static let bootstrapResamples = 1000
}

extension RunReport {
    /// "paired (declared to CJE as representative), labelled rows: p0 21 on 21 prompts, pi_bad 21
    /// on 21 prompts + 8 probes", from `cje/label_design.json` (nil before the export wrote it).
    static func labels(_ run: RunDirectory, order: [String]) -> String? {
        guard let data = try? Data(contentsOf: run.labelDesign),
            let summary = try? JSONDecoder().decode(LabelSummary.self, from: data)
        else { return nil }
        let warnings = summary.warnings.isEmpty ? "" : " (\(summary.warnings.count) warnings: CJE's floors not met)"
        return "\(summary.design.rawValue) (declared to CJE as \(summary.cjeLabelDesign)), labelled rows: "
            + summary.perPolicy(order) + warnings
    }

    /// Reads a finished run (through validate) from its directory.
    public static func load(_ run: RunDirectory) throws -> RunReport {
        let manifest = try Manifest.read(from: run.manifest)
        let config = try? JSONDecoder().decode(
            PipelineConfigSummary.self, from: Data(manifest.fingerprint.config.utf8))
        let responses = try JSONLines.decode(ResponsesRecord.self, from: run.responses)
        let logprobs = try JSONLines.decode(LogprobsRecord.self, from: run.logprobs)
        let p0Det = try JSONLines.decode(ScoredRecord.self, from: run.scored(.p0, .deterministic))
        let p0Unc = try JSONLines.decode(ScoredRecord.self, from: run.scored(.p0, .uncertainty))
        let targetDet = try JSONLines.decode(ScoredRecord.self, from: run.scored(.targets, .deterministic))
        let targetUnc = try JSONLines.decode(ScoredRecord.self, from: run.scored(.targets, .uncertainty))
        let calibration = try JSONLines.decode(OracleRecord.self, from: run.oracleLabels(.calibration))
        let validation = try JSONLines.decode(OracleRecord.self, from: run.oracleLabels(.validation))
        let info =
            FileManager.default.fileExists(atPath: run.datasetInfo.path)
            ? try? JSONDecoder().decode(DatasetInfoSummary.self, from: Data(contentsOf: run.datasetInfo)) : nil

        let logging = config?.loggingPolicy ?? p0Det.first?.policy ?? "p0"
        let policyNames = config?.policies.map(\.name) ?? ([logging] + Set(targetDet.map(\.policy)).sorted())
        let prompts = Dictionary(responses.map { ($0.promptId, $0.prompt) }, uniquingKeysWith: { a, _ in a })

        // At a glance.
        var failures: [(String, Int, Int)] = []
        for (name, report) in Pipeline.inPipelineOrder(manifest.stages) {
            failures.append((name, report.failed, report.total))
        }
        let policies = policyNames.map { name -> (String, String) in
            guard let policy = config?.policies.first(where: { $0.name == name }) else { return (name, "") }
            let source = policy.provider.map { "provider \($0)" } ?? "model \(policy.model ?? "default")"
            return (name, "\(source), T = \(policy.temperature.map { "\($0)" } ?? "0.5")")
        }
        let glance = Glance(
            n: responses.count, seed: config?.seed ?? 0, engine: manifest.fingerprint.engine, policies: policies,
            models: manifest.fingerprint.models.sorted { $0.key < $1.key }.map {
                ($0.key, String($0.value.prefix(12)), manifest.models?[$0.key]?.short)
            },
            validationPassed: info?.passed, validationFailures: info?.failures ?? [],
            auditPairs: info?.auditPairs, auditMismatches: info?.auditMismatches,
            regenerated: info?.determinism?.regenerated, regenerateMismatches: info?.determinism?.regenerateMismatches,
            labels: Self.labels(run, order: policyNames), decisionMargin: config?.decisionMargin, failures: failures)

        // Weights and estimates.
        let p0Judge = Dictionary(p0Det.map { ($0.promptId, $0.judgeScore) }, uniquingKeysWith: { a, _ in a })
        var weights: [Weights] = []
        var scores: [PolicyScores] = []
        var rng = SplitMix64(seed: (config?.seed ?? 0) ^ 0x5EED_B007)
        let validationLabels = Dictionary(grouping: validation.filter(\.selected), by: \.policy)
        for policy in policyNames {
            let own = (policy == logging ? p0Det : targetDet.filter { $0.policy == policy }).compactMap(\.judgeScore)
            let uncertain = (policy == logging ? p0Unc : targetUnc.filter { $0.policy == policy })
            let masses = uncertain.compactMap(\.judgeProbabilityMass)
            let labels = (policy == logging ? calibration.filter(\.selected) : validationLabels[policy] ?? [])
                .compactMap(\.yTrue)
            var entry = PolicyScores(
                policy: policy, deterministic: own, uncertaintyMeans: uncertain.compactMap(\.judgeScore),
                massMean: masses.mean, massMin: masses.min(),
                snips: nil, snipsLow: nil, snipsHigh: nil, ownJudgeMean: own.mean, oracleMean: labels.mean,
                oracleLabels: labels.count)
            if policy == logging {
                entry.snips = own.mean
                (entry.snipsLow, entry.snipsHigh) = bootstrap(own.map { (1.0, $0) }, &rng)
            } else if logprobs.contains(where: { $0.unavailable?[policy] != nil || $0.unavailable?[logging] != nil }) {
                // No log probs by design (a provider that cannot teacher-force, logprobs: off): no weights.
            } else {
                var pairs: [(logWeight: Double, promptId: String)] = []
                for record in logprobs {
                    guard let a = record.logprobs[logging] ?? nil, let b = record.logprobs[policy] ?? nil else {
                        continue
                    }
                    pairs.append((b - a, record.promptId))
                }
                let importance = ImportanceWeights(logWeights: pairs.map(\.logWeight))
                let (w, total) = (importance.weights, importance.total)
                let heaviest = zip(pairs, w).sorted { $0.1 > $1.1 }.prefix(5).map { pair, weight in
                    HeavyItem(
                        promptId: pair.promptId, excerpt: excerpt(prompts[pair.promptId] ?? ""),
                        logWeight: pair.logWeight, share: total > 0 ? weight / total : 0)
                }
                weights.append(
                    Weights(
                        policy: policy, logWeights: pairs.map(\.logWeight),
                        effectiveSampleSize: importance.effectiveSampleSize, largestShare: importance.largestShare,
                        heaviest: heaviest))
                let scored: [(Double, Double)] = zip(pairs, w).compactMap { pair, weight in
                    (p0Judge[pair.promptId] ?? nil).map { (weight, $0) }
                }
                entry.snips = selfNormalised(scored)
                (entry.snipsLow, entry.snipsHigh) = bootstrap(scored, &rng)
            }
            scores.append(entry)
        }

        // Judge against oracle on the labelled slices.
        let judgeOf = Dictionary(
            (p0Det + targetDet).map { ("\($0.promptId)\u{1F}\($0.policy)", $0.judgeScore) },
            uniquingKeysWith: { a, _ in a })
        let labelled: [(judge: Double, oracle: Double)] = (calibration + validation).filter(\.selected).compactMap {
            guard let y = $0.yTrue, let j = judgeOf["\($0.promptId)\u{1F}\($0.policy)"] ?? nil else { return nil }
            return (j, y)
        }
        let bins: [ReliabilityBin] = (0..<5).compactMap { k in
            let (low, high) = (Double(k) / 5, Double(k + 1) / 5)
            let inside = labelled.filter { $0.judge >= low && ($0.judge < high || (k == 4 && $0.judge <= high)) }
            guard let judgeMean = inside.map(\.judge).mean, let oracleMean = inside.map(\.oracle).mean else {
                return nil  // an empty bin
            }
            return ReliabilityBin(
                low: low, high: high, count: inside.count, judgeMean: judgeMean, oracleMean: oracleMean)
        }

        // Stages.
        // A merged run's work was done by its shards: their reports are added in.
        let stages = RunEstimate.reports(manifest).map { name, report in
            let usage = (report.usage ?? [:]).values
            return StageRow(
                stage: name, seconds: report.workSeconds ?? report.seconds, items: report.workItems ?? report.doneNow,
                failed: report.failed, tokens: report.tokens, calls: usage.reduce(0) { $0 + $1.calls },
                retries: usage.reduce(0) { $0 + $1.retries }, spend: usage.reduce(0) { $0 + $1.cost })
        }
        let gaps = logprobs.compactMap(\.p0SampledMinusScored)
        var report = RunReport(
            glance: glance, weights: weights, scores: scores, reliability: bins,
            rankCorrelation: spearman(labelled.map(\.judge), labelled.map(\.oracle)), labelledPairs: labelled.count,
            stages: stages, sampledScoredGap: gaps.map(abs).max(), gapCount: gaps.count)
        report.direct = DirectComparison.load(run, policies: policyNames, seed: config?.seed ?? 0)
        report.directOnly = info?.directOnly
        report.cloneNoise = info?.cloneNoise ?? [:]
        return report
    }

    /// sum(w * y) / sum(w).
    public static func selfNormalised(_ pairs: [(weight: Double, score: Double)]) -> Double? {
        ImportanceWeights.selfNormalised(pairs)
    }

    /// The 2.5% and 97.5% quantiles of the self-normalised mean over resamples (with
    /// replacement) drawn from `rng`.
    public static func bootstrap(_ pairs: [(weight: Double, score: Double)], _ rng: inout SplitMix64) -> (
        Double?, Double?
    ) {
        guard pairs.count > 1 else { return (nil, nil) }
        var estimates: [Double] = []
        for _ in 0..<bootstrapResamples {
            let sample = (0..<pairs.count).map { _ in pairs[Int(rng.next() % UInt64(pairs.count))] }
            if let value = selfNormalised(sample) { estimates.append(value) }
        }
        estimates.sort()
        guard !estimates.isEmpty else { return (nil, nil) }
        func quantile(_ q: Double) -> Double { estimates[Int((Double(estimates.count - 1) * q).rounded())] }
        return (quantile(0.025), quantile(0.975))
    }

    /// Spearman's rho: Pearson correlation of the ranks (ties get their mean rank).
    public static func spearman(_ x: [Double], _ y: [Double]) -> Double? {
        guard x.count == y.count, x.count > 2 else { return nil }
        func ranks(_ values: [Double]) -> [Double] {
            let order = values.indices.sorted { values[$0] < values[$1] }
            var result = [Double](repeating: 0, count: values.count)
            var start = 0
            while start < order.count {
                var end = start
                while end + 1 < order.count, values[order[end + 1]] == values[order[start]] { end += 1 }
                let rank = Double(start + end) / 2 + 1
                for k in start...end { result[order[k]] = rank }
                start = end + 1
            }
            return result
        }
        let (a, b) = (ranks(x), ranks(y))
        guard let ma = a.mean, let mb = b.mean else { return nil }
        let cov = zip(a, b).reduce(0.0) { $0 + ($1.0 - ma) * ($1.1 - mb) }
        let va = a.reduce(0.0) { $0 + ($1 - ma) * ($1 - ma) }
        let vb = b.reduce(0.0) { $0 + ($1 - mb) * ($1 - mb) }
        return va > 0 && vb > 0 ? cov / (va * vb).squareRoot() : nil
    }

    /// The first 90 characters of a prompt on one line.
    static func excerpt(_ text: String) -> String {
        let line = text.split(whereSeparator: \.isNewline).joined(separator: " ")
        return line.count > 90 ? String(line.prefix(89)) + "…" : line
    }
}

/// The parts of the fingerprint's config the report shows.
struct PipelineConfigSummary: Decodable {
    struct Policy: Decodable {
        var name: String
        var model: String?
        var provider: String?
        var temperature: Double?
    }
    var seed: UInt64?
    var loggingPolicy: String?
    var policies: [Policy]
    var decisionMargin: Double?

    enum CodingKeys: String, CodingKey {
        case seed, policies
        case loggingPolicy = "logging_policy"
        case decisionMargin = "decision_margin"
    }
}

/// The parts of `dataset_info.json` the report shows.
struct DatasetInfoSummary: Decodable {
    var passed: Bool
    var failures: [String]
    var auditPairs: Int
    var auditMismatches: Int
    var determinism: DeterminismCertificate?
    /// The judge's and the oracle's answers that parsed (absent before they were counted).
    var parseOk: [String: ValidationReport.ParseCounts]?
    /// Why the run is Direct mode only, and clones' measured noise over HTTP (absent otherwise).
    var directOnly: String?
    var cloneNoise: [String: ValidationReport.CloneNoise]?

    enum CodingKeys: String, CodingKey {
        case passed, failures, determinism
        case directOnly = "direct_only"
        case cloneNoise = "clone_noise"
        case parseOk = "parse_ok"
        case auditPairs = "determinism_audit_pairs"
        case auditMismatches = "determinism_audit_mismatches"
    }
}
