import CJEInference
import Foundation

/// Stages 3a and 3b: every response of every policy judged, deterministically and with a score
/// distribution, in one pass per item. Writes the four `phase2/*_scored_*.jsonl` files; the P0
/// files also carry each response's log probs.
public struct JudgeStage: ItemStage, PipelineStage {
    public let context: StageContext

    public init(context: StageContext) {
        self.context = context
    }

    public static let id = RunStage.judge
    public var name: String { "judge" }

    public static func providers(_ config: PipelineConfig) -> [String] { config.judge.provider.map { [$0] } ?? [] }
    public static func models(_ config: PipelineConfig) -> [String] {
        config.judge.provider == nil ? [config.judge.model] : []
    }

    public func run(_ data: inout RunData) async throws -> [StageReport] {
        let input = Input(
            responses: try data.require([ResponsesRecord].self, from: .generate),
            logprobs: try data.require([LogprobsRecord].self, from: .logprobs))
        let (judged, report) = try await StageRunner(context: context).run(self, input: input)
        data[JudgedRecords.self] = judged
        return [report]
    }

    public struct Input: Sendable {
        var responses: [ResponsesRecord]
        var logprobs: [LogprobsRecord]
    }

    private var backend: any RubricBackend {
        get throws { try context.rubricBackend(context.config.judge, rubric: .judge, seed: context.config.seed) }
    }

    /// Every response that exists, every draw, prompt by prompt.
    public func items(for input: Input) -> [StageItem<RubricItem>] {
        let judge = context.config.judge
        return input.responses.flatMap { record in
            context.config.policies.flatMap { policy in
                record.allDraws(of: policy.name).compactMap { draw, response in
                    response.response.map {
                        StageItem(
                            key: ItemKey(promptId: record.promptId, policy: policy.name, draw: draw),
                            lane: .of(model: judge.model, provider: judge.provider),
                            payload: RubricItem(prompt: record.prompt, response: $0))
                    }
                }
            }
        }
    }

    public func isFailure(_ value: JudgeValue) -> Bool { value.scoreError != nil || value.distributionError != nil }

    public func batchSize(on lane: Lane) throws -> Int { try backend.batchSize }

    public func process(
        _ batch: [RubricItem], on lane: Lane, finished: @escaping @Sendable (Int, JudgeValue) -> Void
    ) async throws -> BatchResult<JudgeValue> {
        try await backend.score(batch, stop: context.stop, finished: finished)
    }

    public func isPermanent(_ value: JudgeValue) -> Bool {
        value.errorKind == .permanent
    }

    public func write(_ input: Input, values: [ItemKey: JudgeValue]) throws -> StageOutcome<JudgedRecords> {
        let config = context.config
        let judgeModel = try backend.modelName
        let logprobs = Dictionary(uniqueKeysWithValues: input.logprobs.map { ($0.promptId, $0) })
        var judged = JudgedRecords()
        var (total, failed) = (0, 0)
        for record in input.responses {
            for policy in config.policies {
                for (draw, response) in record.allDraws(of: policy.name) {
                    let value = values[ItemKey(promptId: record.promptId, policy: policy.name, draw: draw)]
                    let isP0 = policy.name == config.loggingPolicy && draw == 0
                    if response.response != nil {
                        total += 1
                        if value.map(isFailure) ?? true { failed += 1 }
                    }
                    let noResponse = response.response == nil ? "no response: \(response.error ?? "missing")" : nil
                    var base = ScoredRecord(
                        promptId: record.promptId, prompt: record.prompt, response: response.response,
                        policy: policy.name,
                        model: response.model, temperature: response.temperature, judgeModel: judgeModel,
                        judgeScore: nil, judgeScoreVariance: nil, judgeMethod: JudgeMethod(config.judge.deterministic),
                        judgeProbabilityMass: nil, error: nil, totalLogprob: nil, targetLogps: nil)
                    base.drawIdx = draw > 0 ? draw : nil
                    base.errorKind = response.response == nil ? response.errorKind : value?.errorKind
                    base.parseOk = value?.parseOk(.judge)
                    if isP0 {
                        let lp = logprobs[record.promptId]
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
                    uncertainty.judgeMethod = value?.uncertaintyMethod ?? config.judge.uncertaintyMethod
                    uncertainty.judgeScore = value?.mean
                    uncertainty.judgeScoreVariance = value?.variance
                    uncertainty.judgeProbabilityMass = value?.mass
                    uncertainty.error = noResponse ?? value?.distributionError ?? (value == nil ? "not judged" : nil)
                    if draw > 0 {
                        judged.drawsDeterministic.append(deterministic)
                        judged.drawsUncertainty.append(uncertainty)
                    } else if isP0 {
                        judged.p0Deterministic.append(deterministic)
                        judged.p0Uncertainty.append(uncertainty)
                    } else {
                        judged.targetsDeterministic.append(deterministic)
                        judged.targetsUncertainty.append(uncertainty)
                    }
                }
            }
        }
        let run = context.run
        try AtomicFile.write(try JSONLines.encode(judged.p0Deterministic), to: run.scored(.p0, .deterministic))
        try AtomicFile.write(try JSONLines.encode(judged.p0Uncertainty), to: run.scored(.p0, .uncertainty))
        try AtomicFile.write(
            try JSONLines.encode(judged.targetsDeterministic), to: run.scored(.targets, .deterministic))
        try AtomicFile.write(try JSONLines.encode(judged.targetsUncertainty), to: run.scored(.targets, .uncertainty))
        if config.hasLaterDraws {
            try AtomicFile.write(
                try JSONLines.encode(judged.drawsDeterministic), to: run.scored(.draws, .deterministic))
            try AtomicFile.write(try JSONLines.encode(judged.drawsUncertainty), to: run.scored(.draws, .uncertainty))
        }
        return StageOutcome(output: judged, total: total, failed: failed)
    }
}
