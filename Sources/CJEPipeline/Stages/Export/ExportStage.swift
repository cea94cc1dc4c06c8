import CJEInference
import Foundation

/// Writes the data set in the CJE library's formats: `cje/cje_dataset.jsonl` (logged P0 data with
/// log probs under every target policy) and `cje/responses/{policy}_responses.jsonl`: the fresh draws
/// of every policy, the logging policy's own responses included, so CJE's direct mode compares the
/// baseline with the others (its off-policy mode reads only the target policies' files).
///
/// The judge score exported is the uncertainty score (the exact-distribution mean, with its
/// variance): it exists for every judged response, where the greedy score can be unparseable.
/// Rows without a judge score or without a P0 log prob are left out (counted), never filled in.
public struct ExportStage: PipelineStage {
    public let context: StageContext

    public init(context: StageContext) {
        self.context = context
    }

    public static let id = RunStage.export

    /// Rows written and rows left out, over the logged data set and the fresh draws (a P0
    /// response counts once in each).
    public struct Counts: Sendable, Hashable {
        public var written: Int
        public var leftOut: Int
    }

    public func run(_ data: inout RunData) async throws -> [StageReport] {
        let (counts, labels) = try export(
            responses: try data.require([ResponsesRecord].self, from: .generate),
            judged: try data.require(JudgedRecords.self, from: .judge),
            logprobs: try data.require([LogprobsRecord].self, from: .logprobs),
            oracle: try data.require(OracleLabels.self, from: .oracle))
        context.say(
            "export: \(counts.written) rows in \(context.run.cjeDataset.deletingLastPathComponent().path), \(counts.leftOut) left out (no judge score or no P0 log prob)"
        )
        context.say(
            "labels (\(labels.design.rawValue), \(labels.cjeLabelDesign)): \(labels.perPolicy(context.config.policies.map(\.name)))"
        )
        for warning in labels.warnings { context.say("labels: warning: \(warning)") }
        data[Counts.self] = counts
        data[LabelSummary.self] = labels
        return []
    }

    func export(responses: [ResponsesRecord], judged: JudgedRecords, logprobs: [LogprobsRecord], oracle: OracleLabels)
        throws -> (Counts, LabelSummary)
    {
        let config = context.config
        let logging = config.loggingPolicy
        let logprobs = Dictionary(uniqueKeysWithValues: logprobs.map { ($0.promptId, $0) })
        let labels = oracle.labels
        let probeLabels = oracle.probeLabels
        // The export runs on the whole sample (an unsplit run or a merge): its prompts are the sample.
        let design = LabelDesign(config: config, sample: responses.map(\.promptId))
        let provenance = try self.provenance()
        // Each draw's length, and the rows of each policy with a response (every draw) and of
        // them those on its probe prompts, for the original design's propensities.
        var tokens: [ItemKey: Int] = [:]
        var existing: [String: Int] = [:]
        var onProbes: [String: Int] = [:]
        for record in responses {
            for policy in config.policies.map(\.name) {
                for (draw, response) in record.allDraws(of: policy) where response.response != nil {
                    tokens[ItemKey(promptId: record.promptId, policy: policy, draw: draw)] = response.nTokens
                    existing[policy, default: 0] += 1
                    if design.probes(policy).contains(record.promptId) { onProbes[policy, default: 0] += 1 }
                }
            }
        }
        var counts = Counts(written: 0, leftOut: 0)
        var logged: [LoggedRow] = []
        var rows = FreshRows()
        for record in judged.everyDrawUncertainty {
            let draw = record.drawIdx ?? 0
            let logs = record.policy == logging && draw == 0
            guard let response = record.response, let score = record.judgeScore else {
                counts.leftOut += logs ? 2 : 1
                continue
            }
            let key = ItemKey(promptId: record.promptId, policy: record.policy, draw: draw)
            let label = labels[key]
            let propensity = design.propensity(
                record.policy, score: score, populationCount: existing[record.policy] ?? 0,
                probeRows: onProbes[record.policy] ?? 0)
            let rowId = "\(record.policy)/\(record.promptId)/\(draw)"
            let row = FreshDrawRow(
                promptId: record.promptId, targetPolicy: record.policy, prompt: record.prompt, response: response,
                judgeScore: score, judgeScoreVariance: record.judgeScoreVariance, oracleLabel: label, drawIdx: draw,
                rowId: rowId, observationId: rowId + "/" + Checksum.sha256(Data(response.utf8)).prefix(12),
                metadata: FreshDrawRow.Covariates(
                    provenance: provenance, labelPropensity: propensity,
                    judgeScoreVariance: record.judgeScoreVariance, responseTokens: tokens[key]))
            rows.add(row, probe: probeLabels[key])
            counts.written += 1
            if logs {
                guard let lp = logprobs[record.promptId], let base = lp.logprobs[logging] ?? nil else {
                    counts.leftOut += 1
                    continue
                }
                var targets: [String: Double?] = [:]
                for policy in config.policies where policy.name != logging {
                    targets[policy.name] = .some(lp.logprobs[policy.name] ?? nil)
                }
                logged.append(
                    LoggedRow(
                        promptId: record.promptId, prompt: record.prompt, response: response, basePolicyLogprob: base,
                        targetPolicyLogprobs: targets,
                        metadata: LoggedRow.Metadata(
                            judgeScore: score, judgeMethod: record.judgeMethod,
                            judgeScoreVariance: record.judgeScoreVariance, oracleLabel: label)))
                counts.written += 1
            }
        }
        try AtomicFile.write(try JSONLines.encode(logged), to: context.run.cjeDataset)
        for policy in config.policies {
            try AtomicFile.write(
                try JSONLines.encode(rows.fresh[policy.name] ?? []), to: context.run.freshDraws(policy.name))
        }
        let probed = config.oracle.probes > 0 ? config.policies.map(\.name).filter { $0 != logging } : []
        for policy in probed {
            try AtomicFile.write(try JSONLines.encode(rows.probes[policy] ?? []), to: context.run.probes(policy))
        }
        let summary = rows.summary(config: config, design: design, probed: !probed.isEmpty)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        try AtomicFile.write(try encoder.encode(summary), to: context.run.labelDesign)
        try AtomicFile.write(
            Data(AnalyzeScript.text(probed: probed, summary: summary).utf8), to: context.run.analyzeScript)
        return (counts, summary)
    }

    /// Who scored every row: the judge's and the oracle's model (a local file's sha256, or the
    /// provider and its model) and their rubrics' versions.
    private func provenance() throws -> FreshDrawRow.Provenance {
        let config = context.config
        let models = context.manifest.current.fingerprint.models
        return FreshDrawRow.Provenance(
            judge: config.judge.identity(providers: config.providers, models: models),
            judgeRubric: Rubric.judge.version,
            oracle: config.oracle.labeller.identity(providers: config.providers, models: models),
            oracleRubric: Rubric.oracle.version)
    }
}

/// The fresh-draw rows of every policy as the export makes them, with what the label summary
/// counts of them.
struct FreshRows {
    var fresh: [String: [FreshDrawRow]] = [:]
    var probes: [String: [FreshDrawRow]] = [:]
    var labelledPrompts: [String: Set<String>] = [:]
    var labelledScores: [Double] = []

    /// `row`, and its probe row when the row's response has a probe label.
    mutating func add(_ row: FreshDrawRow, probe: Double?) {
        if row.oracleLabel != nil {
            labelledPrompts[row.targetPolicy, default: []].insert(row.promptId)
            labelledScores.append(row.judgeScore)
        }
        fresh[row.targetPolicy, default: []].append(row)
        if let probe {
            var probeRow = row
            probeRow.oracleLabel = probe
            probeRow.rowId = row.rowId + "/probe"
            probes[row.targetPolicy, default: []].append(probeRow)
        }
    }

    /// `cje/label_design.json`: per policy its rows, labelled rows and prompts, probe rows, the
    /// share of its scores outside the labelled range, and its propensities.
    func summary(config: PipelineConfig, design: LabelDesign, probed: Bool) -> LabelSummary {
        let range = labelledScores.min().map {
            ($0 - LabelSummary.rangeTolerance, (labelledScores.max() ?? $0) + LabelSummary.rangeTolerance)
        }
        var policies: [String: LabelSummary.Policy] = [:]
        for policy in config.policies.map(\.name) {
            let own = fresh[policy] ?? []
            let outside = range.flatMap { lo, hi in
                own.isEmpty
                    ? nil : Double(own.filter { $0.judgeScore < lo || $0.judgeScore > hi }.count) / Double(own.count)
            }
            policies[policy] = LabelSummary.Policy(
                rows: own.count, labelledRows: own.filter { $0.oracleLabel != nil }.count,
                labelledPrompts: labelledPrompts[policy]?.count ?? 0, probeRows: probes[policy]?.count ?? 0,
                outsideLabelledRange: outside, propensities: own.map(\.metadata.labelPropensity))
        }
        let oracle = config.oracle
        return LabelSummary(
            design: oracle.design, cjeLabelDesign: design.cjeLabelDesign,
            fraction: oracle.design == .stratified ? nil : oracle.fraction, strata: oracle.strata,
            probes: oracle.probes, probeMargin: probed ? oracle.probeMargin : nil, seed: oracle.seed,
            samplePrompts: design.sample.count, policies: policies, warnings: LabelSummary.floorWarnings(policies))
    }
}
