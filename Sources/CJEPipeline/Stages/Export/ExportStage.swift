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

    public static let id = Pipeline.Stage.export

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
        var fresh: [String: [FreshDrawRow]] = [:]
        var probes: [String: [FreshDrawRow]] = [:]
        var propensities: [String: [Double]] = [:]
        var labelledPrompts: [String: Set<String>] = [:]
        var scores: [String: [Double]] = [:]
        var labelledScores: [Double] = []
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
            if label != nil {
                labelledPrompts[record.policy, default: []].insert(record.promptId)
                labelledScores.append(score)
            }
            fresh[record.policy, default: []].append(row)
            propensities[record.policy, default: []].append(propensity)
            scores[record.policy, default: []].append(score)
            if let probe = probeLabels[key] {
                var probeRow = row
                probeRow.oracleLabel = probe
                probeRow.rowId = rowId + "/probe"
                probes[record.policy, default: []].append(probeRow)
            }
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
                try JSONLines.encode(fresh[policy.name] ?? []), to: context.run.freshDraws(policy.name))
        }
        let probed = config.oracle.probes > 0 ? config.policies.map(\.name).filter { $0 != logging } : []
        for policy in probed {
            try AtomicFile.write(try JSONLines.encode(probes[policy] ?? []), to: context.run.probes(policy))
        }
        let range = labelledScores.min().map {
            ($0 - LabelSummary.rangeTolerance, (labelledScores.max() ?? $0) + LabelSummary.rangeTolerance)
        }
        var policies: [String: LabelSummary.Policy] = [:]
        for policy in config.policies.map(\.name) {
            let own = scores[policy] ?? []
            let outside = range.flatMap { lo, hi in
                own.isEmpty ? nil : Double(own.filter { $0 < lo || $0 > hi }.count) / Double(own.count)
            }
            policies[policy] = LabelSummary.Policy(
                rows: own.count, labelledRows: (fresh[policy] ?? []).filter { $0.oracleLabel != nil }.count,
                labelledPrompts: labelledPrompts[policy]?.count ?? 0, probeRows: probes[policy]?.count ?? 0,
                outsideLabelledRange: outside, propensities: propensities[policy] ?? [])
        }
        let oracleConfig = config.oracle
        let summary = LabelSummary(
            design: oracleConfig.design, cjeLabelDesign: design.cjeLabelDesign,
            fraction: oracleConfig.design == .stratified ? nil : oracleConfig.fraction, strata: oracleConfig.strata,
            probes: oracleConfig.probes, probeMargin: probed.isEmpty ? nil : oracleConfig.probeMargin,
            seed: oracleConfig.seed, samplePrompts: design.sample.count, policies: policies,
            warnings: LabelSummary.floorWarnings(policies))
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
        func identity(_ scorer: any RubricScorerConfig) -> String {
            if let provider = scorer.provider {
                return "provider \(provider): \(config.providers[provider]?.model ?? "?")"
            }
            return "\(scorer.model) sha256:\(models[scorer.model] ?? "?")"
        }
        return FreshDrawRow.Provenance(
            judge: identity(config.judge), judgeRubric: Rubric.judge.version, oracle: identity(config.oracle),
            oracleRubric: Rubric.oracle.version)
    }
}
