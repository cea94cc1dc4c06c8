import CJEInference
import Foundation

/// Writes the data set in the CJE library's formats: `cje/cje_dataset.jsonl` (logged P0 data with
/// log probs under every target policy) and `cje/responses/{policy}_responses.jsonl`: the fresh draws
/// of every policy, the logging policy's own responses included, so CJE's direct mode compares the
/// baseline with the others (its off-policy mode reads only the target policies' files).
///
/// The judge score exported is the uncertainty score (the exact-distribution mean, with its
/// variance): it exists for every judged response, where the greedy score can be unparseable.
/// Rows without a judge score or without a P0 log prob are left out of the files cje-eval reads
/// (counted), never filled in; every sampled row, complete or missing and why, is in
/// `cje/frame/{policy}.jsonl`, and `cje/label_design.json` keeps each stage's inclusion rates.
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
            "export: \(counts.written) rows in \(context.run.cjeDataset.deletingLastPathComponent().path), \(counts.leftOut) left out (no judge score or no P0 log prob; kept as missing in cje/frame/)"
        )
        if let directOnly = context.config.directOnly { context.say("export: \(directOnly)") }
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
        let drawn = oracle.drawn
        let probeLabels = oracle.probeLabels
        // The export runs on the whole sample (an unsplit run or a merge): its prompts are the sample.
        let design = LabelDesign(config: config, sample: responses.map(\.promptId))
        let provenance = try self.provenance()
        // The off-policy set only when every policy has log probs; else the run is Direct mode only.
        let offPolicy = config.hasOffPolicySet
        let (tokens, frameRows, onProbes) = Self.frameCounts(responses, policies: config.policies, design: design)
        var counts = Counts(written: 0, leftOut: 0)
        var logged: [LoggedRow] = []
        var rows = FreshRows()
        for record in judged.everyDrawUncertainty {
            let draw = record.drawIdx ?? 0
            let logs = record.policy == logging && draw == 0
            let key = ItemKey(promptId: record.promptId, policy: record.policy, draw: draw)
            let identity = RowIdentity(
                promptId: record.promptId, policy: record.policy, draw: draw, rubric: Rubric.judge.version)
            let labelled = drawn[key]
            let status: LabelStatus = labelled == nil ? .notDrawn : labelled?.yTrue == nil ? .missing : .labelled
            let propensity = design.propensity(
                record.policy, score: record.judgeScore, populationCount: frameRows[record.policy] ?? 0,
                probeRows: onProbes[record.policy] ?? 0)
            var frame = FrameRow(
                identity: identity, promptId: record.promptId, policy: record.policy, drawIdx: draw,
                status: "complete", error: record.error, errorKind: record.errorKind, judgeScore: record.judgeScore,
                judgeParseOk: record.parseOk, label: status, oracleLabel: labelled?.yTrue,
                labelError: status == .missing ? labelled?.error ?? "not labelled" : nil,
                labelInclusionProbability: propensity)
            guard let response = record.response, let score = record.judgeScore else {
                counts.leftOut += logs && offPolicy ? 2 : 1
                frame.status = "missing"
                frame.missingStage = record.response == nil ? "generate" : "judge"
                frame.logged = logs && offPolicy ? false : nil
                frame.loggedError =
                    logs && offPolicy
                    ? frame.missingStage.map { "no \($0 == "generate" ? "response" : "judge score")" } : nil
                rows.frame[record.policy, default: []].append(frame)
                continue
            }
            let rowId = "\(record.policy)/\(record.promptId)/\(draw)"
            let row = FreshDrawRow(
                promptId: record.promptId, targetPolicy: record.policy, prompt: record.prompt, response: response,
                judgeScore: score, judgeScoreVariance: record.judgeScoreVariance, oracleLabel: labelled?.yTrue,
                drawIdx: draw, rowId: rowId,
                observationId: rowId + "/" + Checksum.sha256(Data(response.utf8)).prefix(12), identity: identity,
                metadata: FreshDrawRow.Covariates(
                    provenance: provenance, labelPropensity: propensity,
                    judgeScoreVariance: record.judgeScoreVariance, responseTokens: tokens[key],
                    judgeParseOk: record.parseOk, oracleParseOk: labelled?.parseOk, labelStatus: status,
                    labelError: frame.labelError))
            rows.add(row, probe: probeLabels[key])
            counts.written += 1
            if logs && offPolicy {
                let metadata = LoggedRow.Metadata(
                    judgeScore: score, judgeMethod: record.judgeMethod, judgeScoreVariance: record.judgeScoreVariance,
                    oracleLabel: labelled?.yTrue, identity: identity, judgeParseOk: record.parseOk, labelStatus: status)
                switch loggedRow(record, response: response, logprobs: logprobs[record.promptId], metadata: metadata) {
                case .success(let row):
                    logged.append(row)
                    counts.written += 1
                case .failure(let why):
                    counts.leftOut += 1
                    frame.loggedError = why.message
                }
                frame.logged = frame.loggedError == nil
            }
            rows.frame[record.policy, default: []].append(frame)
        }
        if offPolicy {
            try AtomicFile.write(try JSONLines.encode(logged), to: context.run.cjeDataset)
        } else if FileManager.default.fileExists(atPath: context.run.cjeDataset.path) {
            try FileManager.default.removeItem(at: context.run.cjeDataset)
        }
        for policy in config.policies {
            try AtomicFile.write(
                try JSONLines.encode(rows.fresh[policy.name] ?? []), to: context.run.freshDraws(policy.name))
            try AtomicFile.write(
                try JSONLines.encode(rows.frame[policy.name] ?? []), to: context.run.frame(policy.name))
        }
        let probed = config.oracle.probes > 0 ? config.policies.map(\.name).filter { $0 != logging } : []
        for policy in probed {
            try AtomicFile.write(try JSONLines.encode(rows.probes[policy] ?? []), to: context.run.probes(policy))
        }
        var summary = rows.summary(config: config, design: design, probed: !probed.isEmpty)
        summary.prompts = context.manifest.current.prompts.flatMap {
            LabelSummary.PromptInclusion($0, drawn: responses.count, source: config.prompts)
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        try AtomicFile.write(try encoder.encode(summary), to: context.run.labelDesign)
        try AtomicFile.write(
            Data(AnalyzeScript.text(probed: probed, summary: summary).utf8), to: context.run.analyzeScript)
        return (counts, summary)
    }

    /// Each draw's length, and each policy's rows of the frame (every draw of every prompt) and
    /// of them those on its probe prompts, for the original design's propensities.
    static func frameCounts(_ responses: [ResponsesRecord], policies: [PolicyConfig], design: LabelDesign)
        -> (tokens: [ItemKey: Int], frameRows: [String: Int], onProbes: [String: Int])
    {
        var tokens: [ItemKey: Int] = [:]
        var frameRows: [String: Int] = [:]
        var onProbes: [String: Int] = [:]
        for record in responses {
            for policy in policies.map(\.name) {
                for (draw, response) in record.allDraws(of: policy) {
                    tokens[ItemKey(promptId: record.promptId, policy: policy, draw: draw)] = response.nTokens
                    frameRows[policy, default: 0] += 1
                    if design.probes(policy).contains(record.promptId) { onProbes[policy, default: 0] += 1 }
                }
            }
        }
        return (tokens, frameRows, onProbes)
    }

    /// Why a logged row is left out of `cje_dataset.jsonl`.
    struct LeftOut: Error {
        var message: String
    }

    /// The logging policy's row of `cje_dataset.jsonl`: its response with its log prob under
    /// every policy (null where one failed), or why it cannot be written (no log prob under P0).
    func loggedRow(
        _ record: ScoredRecord, response: String, logprobs: LogprobsRecord?, metadata: LoggedRow.Metadata
    ) -> Result<LoggedRow, LeftOut> {
        let config = context.config
        let logging = config.loggingPolicy
        guard let lp = logprobs, let base = lp.logprobs[logging] ?? nil else {
            return .failure(LeftOut(message: "no log prob under \(logging): \(logprobs?.errors[logging] ?? "missing")"))
        }
        var targets: [String: Double?] = [:]
        for policy in config.policies where policy.name != logging {
            targets[policy.name] = .some(lp.logprobs[policy.name] ?? nil)
        }
        return .success(
            LoggedRow(
                promptId: record.promptId, prompt: record.prompt, response: response, basePolicyLogprob: base,
                targetPolicyLogprobs: targets, metadata: metadata))
    }

    /// Who scored every row: the judge's and the oracle's model (a local file's sha256, or the
    /// provider and its model) and their rubrics' versions.
    private func provenance() throws -> FreshDrawRow.Provenance {
        let config = context.config
        let models = context.manifest.current.fingerprint.models
        return FreshDrawRow.Provenance(
            judge: config.judge.identity(providers: config.providers, models: models),
            judgeRubric: Rubric.judge.version, judgeTemperature: config.judge.answerTemperature,
            oracle: config.oracle.labeller.identity(providers: config.providers, models: models),
            oracleRubric: Rubric.oracle.version, oracleTemperature: config.oracle.answerTemperature,
            date: context.manifest.current.chatDate?.day)
    }
}

/// The fresh-draw rows of every policy as the export makes them, with what the label summary
/// counts of them.
struct FreshRows {
    var fresh: [String: [FreshDrawRow]] = [:]
    /// Every row of the frame, complete or missing, in the order the judge wrote them.
    var frame: [String: [FrameRow]] = [:]
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
            let frame = self.frame[policy] ?? []
            policies[policy] = LabelSummary.Policy(
                rows: own.count, labelledRows: own.filter { $0.oracleLabel != nil }.count,
                labelledPrompts: labelledPrompts[policy]?.count ?? 0, probeRows: probes[policy]?.count ?? 0,
                outsideLabelledRange: outside, propensities: own.map(\.metadata.labelPropensity),
                frameRows: frame.count,
                missing: LabelSummary.Missing(
                    generate: frame.filter { $0.missingStage == "generate" }.count,
                    judge: frame.filter { $0.missingStage == "judge" }.count,
                    label: frame.filter { $0.label == .missing }.count))
        }
        let oracle = config.oracle
        return LabelSummary(
            design: oracle.design, cjeLabelDesign: design.cjeLabelDesign,
            fraction: oracle.design == .stratified ? nil : oracle.fraction, strata: oracle.strata,
            probes: oracle.probes, probeMargin: probed ? oracle.probeMargin : nil, seed: oracle.seed,
            samplePrompts: design.sample.count, policies: policies, warnings: LabelSummary.floorWarnings(policies),
            decisionMargin: config.decisionMargin, directOnly: config.directOnly)
    }
}
