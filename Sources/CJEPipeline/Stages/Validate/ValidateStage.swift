import CJEInference
import Foundation

/// Stage 5: checks every output and previews what the CJE estimators will see; writes
/// `data/dataset_info.json`. A hard failure (a log prob that is not finite and <= 0 or is
/// exactly 0, a clone's weight other than exactly 1, a judge score outside [0, 1], a negative
/// variance, a determinism audit mismatch) fails the run after the summary is shown.
public struct ValidateStage: PipelineStage {
    public let context: StageContext
    /// (response, policy) pairs re-scored one by one in a fresh context.
    public var auditSize = 20
    /// Local draws regenerated one by one with their own seeds.
    public var regenerateSize = 10

    public init(context: StageContext) {
        self.context = context
    }

    public static let id = RunStage.validate
    /// The audit re-scores every local policy alone and regenerates local draws.
    public static func models(_ config: PipelineConfig) -> [String] {
        Array(Set(LogprobsStage.models(config) + config.localPolicyModels)).sorted()
    }

    public func run(_ data: inout RunData) async throws -> [StageReport] {
        let report = try await validate(
            responses: try data.require([ResponsesRecord].self, from: .generate),
            logprobs: try data.require([LogprobsRecord].self, from: .logprobs),
            judged: try data.require(JudgedRecords.self, from: .judge),
            oracle: try data.require(OracleLabels.self, from: .oracle), labels: data[LabelSummary.self])
        data[ValidationReport.self] = report
        context.say(report.summary)
        for (name, usage) in context.manifest.providers.sorted(by: { $0.key < $1.key }) {
            context.say("provider \(name), whole run: \(usage.summary)")
        }
        if !report.passed { throw PipelineError.validationFailed(failures: report.failures) }
        return []
    }

    /// Checks the data set, audits determinism on the real engine, computes the diagnostics and
    /// writes them to `data/dataset_info.json`. The checks are the named ones of
    /// `ValidationChecks`, in this order; their failures and warnings are listed in it.
    public func validate(
        responses: [ResponsesRecord], logprobs: [LogprobsRecord], judged: JudgedRecords, oracle: OracleLabels,
        labels: LabelSummary? = nil
    ) async throws -> ValidationReport {
        let config = context.config
        var found = ValidationChecks.Findings()
        found += ValidationChecks.joins(responses: responses, logprobs: logprobs)
        found += ValidationChecks.logProbs(logprobs, policies: config.policies)
        found += ValidationChecks.cloneWeights(logprobs, config: config)
        found += ValidationChecks.judgeScores(judged)
        let rescored = try await rescoreAudit(responses: responses, logprobs: logprobs)
        found += rescored.findings
        let regenerated = try await regenerateAudit(responses: responses)
        found += regenerated.findings
        let certificate = DeterminismCertificate(
            rescored: rescored.checked, rescoreMismatches: rescored.mismatches, regenerated: regenerated.checked,
            regenerateMismatches: regenerated.mismatches, engine: context.manifest.current.fingerprint.engine)
        let diagnostics = ValidationChecks.diagnostics(
            logprobs: logprobs, judged: judged, validation: oracle.validation, config: config)
        found += ValidationChecks.calibrationLabels(oracle.calibration)
        // The default design's file stays the original experiment's; another design says how its
        // labels were drawn and where CJE's floors are not met.
        let declared = labels.flatMap { $0.design != .original || $0.probes > 0 ? $0.compact : nil }
        found.warnings += declared?.warnings ?? []
        var report = ValidationReport(
            prompts: responses.count, failures: found.failures, warnings: found.warnings,
            nullRates: ValidationChecks.nullRates(logprobs: logprobs, judged: judged, config: config),
            auditPairs: rescored.checked, auditMismatches: rescored.mismatches, policies: diagnostics)
        report.labelDesign = declared
        report.determinism = certificate
        report.parseOk = ValidationChecks.parseCounts(judged: judged, oracle: oracle)
        report.decisionMargin = config.decisionMargin
        report.directOnly = config.directOnly
        report.cloneNoise = ValidationChecks.cloneNoise(logprobs, config: config)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(try encoder.encode(report), to: context.run.datasetInfo)
        return report
    }

    /// What an audit on the engine checked: how many, how many differed, and each difference.
    struct Audit {
        var checked = 0
        var mismatches = 0
        var findings = ValidationChecks.Findings()
    }

    /// Determinism audit: re-scores a seeded sample of (response, policy) pairs of the local
    /// policies one by one, in a fresh context each; every value must be the one the run wrote,
    /// bit for bit. (A value from an endpoint is its measurement: `cloneNoise` shows how noisy.)
    func rescoreAudit(responses: [ResponsesRecord], logprobs: [LogprobsRecord]) async throws -> Audit {
        let config = context.config
        var pairs: [(record: ResponsesRecord, policy: PolicyConfig, expected: Double)] = []
        let byId = Dictionary(uniqueKeysWithValues: responses.map { ($0.promptId, $0) })
        for record in logprobs {
            for policy in config.policies {
                guard case .local = config.logprobSource(of: policy) else { continue }
                if let value = record.logprobs[policy.name] ?? nil, let response = byId[record.promptId] {
                    pairs.append((response, policy, value))
                }
            }
        }
        pairs = ItemSeed.ranked(pairs, runSeed: config.seed) { ("audit/" + $0.policy.name, $0.record.promptId) }
        var audit = Audit()
        for pair in pairs.prefix(auditSize) {
            audit.checked += 1
            let engine = try context.engine(pair.policy.model)
            let request = try LogprobsStage.request(
                record: pair.record, policy: pair.policy, logging: config.logging, engine: engine)
            let value = try? await engine.scoreBatch([request])[0].get().scored[0].total
            if value != pair.expected {
                audit.mismatches += 1
                audit.findings.failures.append(
                    "determinism audit: \(pair.record.promptId)/\(pair.policy.name) re-scored \(value.map { "\($0)" } ?? "failed") vs \(pair.expected)"
                )
            }
        }
        return audit
    }

    /// Determinism audit, part two: regenerates a seeded sample of local draws one at a time, each
    /// with its own seed in a fresh batch of one: the same token ids and sampled log prob.
    func regenerateAudit(responses: [ResponsesRecord]) async throws -> Audit {
        let config = context.config
        var draws: [(record: ResponsesRecord, policy: PolicyConfig, response: ResponseRecord)] = []
        for record in responses {
            for policy in config.policies where policy.provider == nil {
                for (_, response) in record.allDraws(of: policy.name) where response.tokenIds != nil {
                    draws.append((record, policy, response))
                }
            }
        }
        draws = ItemSeed.ranked(draws, runSeed: config.seed) {
            ("regenerate/" + $0.policy.name, $0.record.promptId + "#\($0.response.drawIdx ?? 0)")
        }
        var audit = Audit()
        for draw in draws.prefix(regenerateSize) {
            audit.checked += 1
            let engine = try context.engine(draw.policy.model)
            let request = try GenerateStage.request(
                prompt: draw.record.prompt, policy: draw.policy, seed: draw.response.seed, engine: engine)
            let again = try? await engine.generateBatch([request])[0].get()
            if again?.tokens != draw.response.tokenIds || again?.sampledLogProb != draw.response.sampledLogprob {
                audit.mismatches += 1
                audit.findings.failures.append(
                    "determinism audit: \(draw.record.promptId)/\(draw.policy.name) regenerated alone gave \(again.map { "\($0.tokens.count) tokens, sampled log prob \($0.sampledLogProb.map { "\($0)" } ?? "none")" } ?? "a failure") vs \(draw.response.tokenIds?.count ?? 0) tokens, \(draw.response.sampledLogprob.map { "\($0)" } ?? "none")"
                )
            }
        }
        return audit
    }
}
