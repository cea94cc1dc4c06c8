import CJEInference
import Foundation

/// The checks `validate` makes on the data set, each on its own: what it found (hard failures
/// fail the run; warnings are shown and kept in `dataset_info.json`). The determinism audits,
/// which need the engine, are `ValidateStage.rescoreAudit` and `regenerateAudit`.
package enum ValidationChecks {
    /// Failures and warnings, in the order the checks found them.
    package struct Findings: Equatable {
        package var failures: [String] = []
        package var warnings: [String] = []

        package init(failures: [String] = [], warnings: [String] = []) {
            self.failures = failures
            self.warnings = warnings
        }

        package static func += (a: inout Findings, b: Findings) {
            a.failures += b.failures
            a.warnings += b.warnings
        }
    }

    /// The log probs list the prompts of the responses, in their order.
    package static func joins(responses: [ResponsesRecord], logprobs: [LogprobsRecord]) -> Findings {
        logprobs.map(\.promptId) == responses.map(\.promptId)
            ? Findings()
            : Findings(failures: ["logprobs.jsonl does not list the prompts of all_responses.jsonl in order"])
    }

    /// Every log prob is finite and <= 0, and not exactly 0 (a non-empty response); a long
    /// response whose per-token log prob is near 0 is a warning.
    package static func logProbs(_ logprobs: [LogprobsRecord], policies: [PolicyConfig]) -> Findings {
        var found = Findings()
        for record in logprobs {
            for policy in policies {
                guard let value = record.logprobs[policy.name] ?? nil else { continue }
                if !value.isFinite || value > 0 {
                    found.failures.append("\(record.promptId)/\(policy.name): log prob \(value) is not finite and <= 0")
                }
                if value == 0 {
                    found.failures.append(
                        "\(record.promptId)/\(policy.name): log prob is exactly 0 for a non-empty response")
                }
                if let n = record.nResponseTokens, n >= 50, value / Double(n) > -1e-4 {
                    found.warnings.append(
                        "\(record.promptId)/\(policy.name): \(n) tokens with a per-token log prob near 0")
                }
            }
        }
        return found
    }

    /// Clones of the logging policy (same model, prompt, temperature, limit) weigh exactly 1 on
    /// the engine. Over HTTP a clone's weight measures the endpoint's noise (`cloneNoise`), so it
    /// is not checked against 1.
    package static func cloneWeights(_ logprobs: [LogprobsRecord], config: PipelineConfig) -> Findings {
        var found = Findings()
        let logging = config.logging
        guard case .local = config.logprobSource(of: logging) else { return found }
        for clone in config.policies.filter({ $0.isClone(of: logging) }) {
            for record in logprobs {
                let a = record.logprobs[logging.name] ?? nil
                let b = record.logprobs[clone.name] ?? nil
                if let a, let b, exp(b - a) != 1.0 {
                    found.failures.append("\(record.promptId): \(clone.name) weight is \(exp(b - a)), not exactly 1")
                }
            }
        }
        return found
    }

    /// Per clone of the logging policy teacher-forced over HTTP (each value its own request):
    /// the distribution of |log w|, the endpoint's noise. Measured, never forced to 0.
    package static func cloneNoise(_ logprobs: [LogprobsRecord], config: PipelineConfig)
        -> [String: ValidationReport.CloneNoise]
    {
        let logging = config.logging
        guard let method = config.logprobSource(of: logging).method, method != "local" else { return [:] }
        var noise: [String: ValidationReport.CloneNoise] = [:]
        for clone in config.policies.filter({ $0.isClone(of: logging) }) {
            let gaps = logprobs.compactMap { record -> Double? in
                guard let a = record.logprobs[logging.name] ?? nil, let b = record.logprobs[clone.name] ?? nil else {
                    return nil
                }
                return abs(b - a)
            }
            noise[clone.name] = ValidationReport.CloneNoise(method: method, absLogWeights: gaps)
        }
        return noise
    }

    /// Judge scores lie in [0, 1] and variances are not negative.
    package static func judgeScores(_ judged: JudgedRecords) -> Findings {
        var found = Findings()
        let records =
            judged.p0Deterministic + judged.targetsDeterministic + judged.drawsDeterministic
            + judged.everyDrawUncertainty
        for record in records {
            if let s = record.judgeScore, !(s >= 0 && s <= 1) {
                found.failures.append("\(record.promptId)/\(record.policy): judge score \(s) outside [0, 1]")
            }
            if let v = record.judgeScoreVariance, !(v >= 0) {
                found.failures.append("\(record.promptId)/\(record.policy): judge variance \(v) < 0")
            }
        }
        return found
    }

    /// Calibration labels exist, and the ones that failed are counted.
    package static func calibrationLabels(_ calibration: [OracleRecord]) -> Findings {
        var found = Findings()
        let labelled = calibration.filter(\.selected)
        if labelled.isEmpty { found.warnings.append("no calibration oracle labels") }
        let missing = labelled.filter { $0.yTrue == nil }.count
        if missing > 0 { found.warnings.append("\(missing) of \(labelled.count) calibration labels failed") }
        return found
    }

    /// How many of the judge's answers (every draw) and the oracle's (every drawn row, probes
    /// included) parsed as a score 0-10: `parse_ok` counted.
    package static func parseCounts(judged: JudgedRecords, oracle: OracleLabels)
        -> [String: ValidationReport.ParseCounts]
    {
        func count(_ flags: [Bool?]) -> ValidationReport.ParseCounts {
            let given = flags.compactMap { $0 }
            return ValidationReport.ParseCounts(answers: given.count, parsed: given.filter { $0 }.count)
        }
        let drawn = (oracle.calibration + oracle.validation + oracle.probes).filter(\.selected)
        return ["judge": count(judged.everyDrawDeterministic.map(\.parseOk)), "oracle": count(drawn.map(\.parseOk))]
    }

    /// The share of missing values: each policy's log probs (of the policies that can have
    /// them), and the deterministic judge scores.
    package static func nullRates(logprobs: [LogprobsRecord], judged: JudgedRecords, config: PipelineConfig)
        -> [String: Double]
    {
        var rates: [String: Double] = [:]
        for policy in config.policies where config.logprobSource(of: policy).isAvailable {
            let nulls = logprobs.filter { ($0.logprobs[policy.name] ?? nil) == nil }.count
            rates["logprobs/" + policy.name] = logprobs.isEmpty ? 0 : Double(nulls) / Double(logprobs.count)
        }
        let deterministic = judged.deterministic
        rates["judge_deterministic"] =
            deterministic.isEmpty
            ? 0 : Double(deterministic.filter { $0.judgeScore == nil }.count) / Double(deterministic.count)
        return rates
    }

    /// Per target policy: importance-weight diagnostics and the self-normalised judge estimate
    /// from P0's responses (where both it and P0 have log probs; otherwise why not), its own
    /// judge mean and its oracle mean.
    package static func diagnostics(
        logprobs: [LogprobsRecord], judged: JudgedRecords, validation: [OracleRecord], config: PipelineConfig
    ) -> [String: ValidationReport.PolicyDiagnostics] {
        let logging = config.logging
        let p0Judge = Dictionary(uniqueKeysWithValues: judged.p0Deterministic.map { ($0.promptId, $0.judgeScore) })
        var diagnostics: [String: ValidationReport.PolicyDiagnostics] = [:]
        for policy in config.policies where policy.name != logging.name {
            var pairs: [(logWeight: Double, score: Double?)] = []
            for record in logprobs {
                guard let a = record.logprobs[logging.name] ?? nil, let b = record.logprobs[policy.name] ?? nil else {
                    continue
                }
                pairs.append((b - a, p0Judge[record.promptId] ?? nil))
            }
            let importance = ImportanceWeights(logWeights: pairs.map(\.logWeight))
            let (weights, total) = (importance.weights, importance.total)
            let mean = weights.isEmpty ? 1 : total / Double(weights.count)
            let normalised = weights.map { $0 / mean }.sorted()
            let quantiles =
                normalised.isEmpty
                ? []
                : [0.05, 0.25, 0.5, 0.75, 0.95].map {
                    normalised[min(normalised.count - 1, Int((Double(normalised.count - 1) * $0).rounded()))]
                }
            let scored: [(weight: Double, score: Double)] = zip(weights, pairs).compactMap { w, p in
                p.score.map { (w, $0) }
            }
            let own = judged.targetsDeterministic.filter { $0.policy == policy.name }.compactMap(\.judgeScore)
            let labels = validation.filter { $0.policy == policy.name }.compactMap(\.yTrue)
            var noWeights: String?
            for side in [logging, policy] {
                if case .none(let reason) = config.logprobSource(of: side) {
                    noWeights = noWeights ?? "no log probs under \(side.name): \(reason)"
                }
            }
            diagnostics[policy.name] = ValidationReport.PolicyDiagnostics(
                samples: pairs.count, effectiveSampleSize: importance.effectiveSampleSize,
                largestWeightShare: importance.largestShare, weightQuantiles: quantiles,
                snipsJudgeMean: ImportanceWeights.selfNormalised(scored), ownJudgeMean: own.mean,
                oracleMean: labels.mean, oracleLabels: labels.count, noWeights: noWeights)
        }
        return diagnostics
    }
}
