public import CJEInference
import Foundation

/// A line of the phase2 scored files.
public struct ScoredRecord: Codable, Sendable, Hashable {
    public var promptId: String
    public var prompt: String
    public var response: String?
    public var policy: String
    public var model: String
    public var temperature: Double
    /// The judge's model (a local model's name or the provider's model).
    public var judgeModel: String?
    public var judgeScore: Double?
    public var judgeScoreVariance: Double?
    public var judgeMethod: JudgeMethod
    public var judgeProbabilityMass: Double?
    public var error: String?
    /// `permanent` when the failure behind `error` would come again (absent: transient, or none).
    public var errorKind: FailureKind?
    /// Whether the judge's greedy answer parsed as a score 0-10 (absent when it gave none).
    public var parseOk: Bool?
    /// P0 files only: the response's log prob under P0, and under each target policy.
    public var totalLogprob: Double?
    public var targetLogps: [String: Double?]?
    /// The draw, for draws after the first (absent for draw 0).
    public var drawIdx: Int?

    enum CodingKeys: String, CodingKey {
        case prompt, response, policy, model, temperature, error
        case promptId = "prompt_id"
        case judgeScore = "judge_score"
        case judgeScoreVariance = "judge_score_variance"
        case judgeMethod = "judge_method"
        case judgeModel = "judge_model"
        case judgeProbabilityMass = "judge_probability_mass"
        case totalLogprob = "total_logprob"
        case targetLogps = "target_logps"
        case drawIdx = "draw_idx"
        case errorKind = "error_kind"
        case parseOk = "parse_ok"
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(promptId, forKey: .promptId)
        try c.encode(prompt, forKey: .prompt)
        try c.encode(response, forKey: .response)
        try c.encode(policy, forKey: .policy)
        try c.encodeIfPresent(drawIdx, forKey: .drawIdx)
        try c.encode(model, forKey: .model)
        try c.encode(temperature, forKey: .temperature)
        try c.encode(judgeScore, forKey: .judgeScore)
        if !judgeMethod.isDeterministic { try c.encode(judgeScoreVariance, forKey: .judgeScoreVariance) }
        try c.encode(judgeMethod, forKey: .judgeMethod)
        try c.encodeIfPresent(judgeModel, forKey: .judgeModel)
        try c.encodeIfPresent(judgeProbabilityMass, forKey: .judgeProbabilityMass)
        try c.encodeIfPresent(error, forKey: .error)
        try c.encodeIfPresent(errorKind, forKey: .errorKind)
        try c.encodeIfPresent(parseOk, forKey: .parseOk)
        if let targetLogps {
            try c.encode(totalLogprob, forKey: .totalLogprob)
            var inner = c.nestedContainer(keyedBy: AnyKey.self, forKey: .targetLogps)
            for (policy, value) in targetLogps { try inner.encode(value, forKey: AnyKey(stringValue: policy)) }
        }
    }
}
