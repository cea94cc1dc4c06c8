import Foundation

/// A row of `cje/cje_dataset.jsonl`: a logged P0 response with its log prob under every target
/// policy (null where it could not be computed), for cje-eval's off-policy mode.
package struct LoggedRow: Encodable, Sendable {
    package var promptId: String
    package var prompt: String
    package var response: String
    package var basePolicyLogprob: Double
    package var targetPolicyLogprobs: [String: Double?]
    package var metadata: Metadata

    /// The judge's score of the response (the exact-distribution mean) and its oracle label.
    package struct Metadata: Encodable, Sendable {
        package var judgeScore: Double
        package var judgeMethod: JudgeMethod
        package var judgeScoreVariance: Double?
        package var oracleLabel: Double?

        package enum CodingKeys: String, CodingKey, CaseIterable {
            case judgeScore = "judge_score"
            case judgeMethod = "judge_method"
            case judgeScoreVariance = "judge_score_variance"
            case oracleLabel = "oracle_label"
        }

        package func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(judgeScore, forKey: .judgeScore)
            try c.encode(judgeMethod, forKey: .judgeMethod)
            try c.encodeIfPresent(judgeScoreVariance, forKey: .judgeScoreVariance)
            try c.encodeIfPresent(oracleLabel, forKey: .oracleLabel)
        }
    }

    package enum CodingKeys: String, CodingKey, CaseIterable {
        case promptId = "prompt_id"
        case prompt, response, metadata
        case basePolicyLogprob = "base_policy_logprob"
        case targetPolicyLogprobs = "target_policy_logprobs"
    }
}

/// A row of `cje/responses/{policy}_responses.jsonl` (a response of that policy, the logging
/// policy's included) and of `cje/probes/{policy}.jsonl` (a held-out probe, with its label), for
/// cje-eval's Direct mode.
package struct FreshDrawRow: Encodable, Sendable {
    package var promptId: String
    package var targetPolicy: String
    package var prompt: String
    package var response: String
    package var judgeScore: Double
    package var judgeScoreVariance: Double?
    package var oracleLabel: Double?
    package var drawIdx: Int
    /// `policy/prompt_id/draw` (with `/probe` in the probes file).
    package var rowId: String
    /// `row_id/` and the response's sha256, 12 digits: the same in the responses and probes files.
    package var observationId: String
    package var metadata: Covariates

    /// Who scored the row, and what CJE reads beside the score.
    package struct Covariates: Encodable, Sendable {
        package var provenance: Provenance
        package var labelPropensity: Double
        package var judgeScoreVariance: Double?
        package var responseTokens: Int?

        package enum CodingKeys: String, CodingKey, CaseIterable {
            case judge, oracle
            case judgeRubric = "judge_rubric"
            case oracleRubric = "oracle_rubric"
            case labelPropensity = "label_propensity"
            case judgeScoreVariance = "judge_score_variance"
            case responseTokens = "response_tokens"
        }

        package func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(provenance.judge, forKey: .judge)
            try c.encode(provenance.judgeRubric, forKey: .judgeRubric)
            try c.encode(provenance.oracle, forKey: .oracle)
            try c.encode(provenance.oracleRubric, forKey: .oracleRubric)
            try c.encode(labelPropensity, forKey: .labelPropensity)
            try c.encodeIfPresent(judgeScoreVariance, forKey: .judgeScoreVariance)
            try c.encodeIfPresent(responseTokens, forKey: .responseTokens)
        }
    }

    /// The judge's and the oracle's model (a local file's sha256, or the provider and its model)
    /// and their rubrics' versions: the same on every row of a run.
    package struct Provenance: Sendable, Hashable {
        package var judge: String
        package var judgeRubric: String
        package var oracle: String
        package var oracleRubric: String
    }

    package enum CodingKeys: String, CodingKey, CaseIterable {
        case prompt, response, metadata
        case promptId = "prompt_id"
        case targetPolicy = "target_policy"
        case judgeScore = "judge_score"
        case judgeScoreVariance = "judge_score_variance"
        case oracleLabel = "oracle_label"
        case drawIdx = "draw_idx"
        case rowId = "row_id"
        case observationId = "observation_id"
    }

    package func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(promptId, forKey: .promptId)
        try c.encode(targetPolicy, forKey: .targetPolicy)
        try c.encode(prompt, forKey: .prompt)
        try c.encode(response, forKey: .response)
        try c.encode(judgeScore, forKey: .judgeScore)
        try c.encodeIfPresent(judgeScoreVariance, forKey: .judgeScoreVariance)
        try c.encodeIfPresent(oracleLabel, forKey: .oracleLabel)
        try c.encode(drawIdx, forKey: .drawIdx)
        try c.encode(rowId, forKey: .rowId)
        try c.encode(observationId, forKey: .observationId)
        try c.encode(metadata, forKey: .metadata)
    }
}
