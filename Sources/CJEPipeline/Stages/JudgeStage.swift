public import CJEInference
public import Foundation

extension RunDirectory {
    public var phase2: URL { root.appendingPathComponent("phase2") }
    public func scored(_ who: String, _ method: String) -> URL {
        phase2.appendingPathComponent("\(who)_scored_\(method).jsonl")
    }
    public func oracleLabels(_ task: String) -> URL { root.appendingPathComponent("data/oracle_labels_\(task).jsonl") }
    public func oracleDetailed(_ task: String) -> URL {
        phase2.appendingPathComponent("labeling/oracle_labels_\(task)_detailed.jsonl")
    }
}

/// Stages 3a and 3b: every response of every policy judged, deterministically and with a
/// score distribution, in one pass.
public struct JudgeStage: Sendable {
    public let config: PipelineConfig
    public let run: RunDirectory
    public let engine: @Sendable (String) throws -> any TextEngine
    /// The run's providers, for a judge that names one.
    public var providers: ProviderHub?

    public init(
        config: PipelineConfig, run: RunDirectory, engine: @escaping @Sendable (String) throws -> any TextEngine
    ) {
        self.config = config
        self.run = run
        self.engine = engine
    }

    public func execute(
        responses: [ResponsesRecord], logprobs: [LogprobsRecord], progress: StageProgress? = nil
    ) async throws -> StageReport {
        let started = Date()
        let journal = Journal<JournalEntry<JudgeValue>>(url: run.journal("judge"))
        var latest = GenerateStage.latest(try journal.load())
        var pending: [RubricItem] = []
        var total = 0
        for record in responses {
            for policy in config.policies {
                guard let text = record.responses[policy.name]?.response else { continue }
                total += 1
                guard
                    let attempt = JournalEntry.nextAttempt(
                        after: latest[record.promptId + "\u{0}" + policy.name],
                        failed: { $0.scoreError != nil || $0.distributionError != nil }, maxAttempts: config.maxAttempts
                    )
                else { continue }
                pending.append(
                    RubricItem(
                        promptId: record.promptId, policy: policy.name, prompt: record.prompt, response: text,
                        attempt: attempt))
            }
        }
        let scorer = try rubricBackend(
            config.judge, rubric: .judge, maxTokens: config.judge.maxTokens, seed: config.seed, engine: engine,
            providers: providers)
        func report() {
            let failed = latest.values.filter { $0.value.scoreError != nil || $0.value.distributionError != nil }.count
            progress?(latest.count - failed, total, failed)
        }
        report()
        let doneNow = try await scorer.judgeJournaled(pending, journal: journal) { entries in
            for entry in entries { latest[entry.promptId + "\u{0}" + entry.policy] = entry }
            report()
        }

        // The four phase2 files.
        let logprobsByPrompt = Dictionary(uniqueKeysWithValues: logprobs.map { ($0.promptId, $0) })
        var failed = 0
        var files: [String: [ScoredRecord]] = [:]
        for record in responses {
            for policy in config.policies {
                guard let response = record.responses[policy.name] else { continue }
                let value = latest[record.promptId + "\u{0}" + policy.name]?.value
                let isP0 = policy.name == config.loggingPolicy
                if response.response != nil, value?.scoreError != nil || value?.distributionError != nil || value == nil
                {
                    failed += 1
                }
                let noResponse = response.response == nil ? "no response: \(response.error ?? "missing")" : nil
                var base = ScoredRecord(
                    promptId: record.promptId, prompt: record.prompt, response: response.response, policy: policy.name,
                    model: response.model, temperature: response.temperature, judgeModel: scorer.modelName,
                    judgeScore: nil, judgeScoreVariance: nil,
                    judgeMethod: config.judge.deterministic.rawValue, judgeProbabilityMass: nil, error: nil,
                    totalLogprob: nil,
                    targetLogps: nil)
                if isP0 {
                    let lp = logprobsByPrompt[record.promptId]
                    base.totalLogprob = lp?.logprobs[policy.name] ?? nil
                    var targets: [String: Double?] = [:]
                    for target in config.policies where target.name != policy.name {
                        targets[target.name] = .some(lp?.logprobs[target.name] ?? nil)
                    }
                    base.targetLogps = targets
                }
                var deterministic = base
                deterministic.judgeScore = value?.score
                deterministic.error = noResponse ?? value?.scoreError ?? (value == nil ? "not judged" : nil)
                var uncertainty = base
                uncertainty.judgeMethod =
                    value?.uncertaintyMethod ?? config.judge.uncertainty?.rawValue ?? "exact_distribution"
                uncertainty.judgeScore = value?.mean
                uncertainty.judgeScoreVariance = value?.variance
                uncertainty.judgeProbabilityMass = value?.mass
                uncertainty.error = noResponse ?? value?.distributionError ?? (value == nil ? "not judged" : nil)
                let who = isP0 ? "p0" : "targets"
                files[who + "/deterministic", default: []].append(deterministic)
                files[who + "/uncertainty", default: []].append(uncertainty)
            }
        }
        for who in ["p0", "targets"] {
            for method in ["deterministic", "uncertainty"] {
                try AtomicFile.write(try JSONLines.encode(files[who + "/" + method] ?? []), to: run.scored(who, method))
            }
        }
        return StageReport(
            stage: "judge", total: total, succeeded: total - failed, failed: failed, doneNow: doneNow,
            seconds: Date().timeIntervalSince(started))
    }
}
