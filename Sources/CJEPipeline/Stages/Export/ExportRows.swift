package import CJEInference
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

    /// The judge's score of the response (the exact-distribution mean), its oracle label, and
    /// the row's identity and status as in the rest of the bundle.
    package struct Metadata: Encodable, Sendable {
        package var judgeScore: Double
        package var judgeMethod: JudgeMethod
        package var judgeScoreVariance: Double?
        package var oracleLabel: Double?
        package var identity: RowIdentity
        package var judgeParseOk: Bool?
        package var labelStatus: LabelStatus

        package enum CodingKeys: String, CodingKey, CaseIterable {
            case judgeScore = "judge_score"
            case judgeMethod = "judge_method"
            case judgeScoreVariance = "judge_score_variance"
            case oracleLabel = "oracle_label"
            case recordId = "record_id"
            case clusterId = "cluster_id"
            case judgeParseOk = "judge_parse_ok"
            case labelStatus = "label_status"
        }

        package func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(judgeScore, forKey: .judgeScore)
            try c.encode(judgeMethod, forKey: .judgeMethod)
            try c.encodeIfPresent(judgeScoreVariance, forKey: .judgeScoreVariance)
            try c.encodeIfPresent(oracleLabel, forKey: .oracleLabel)
            try c.encode(identity.recordId, forKey: .recordId)
            try c.encode(identity.clusterId, forKey: .clusterId)
            try c.encode(judgeParseOk, forKey: .judgeParseOk)
            try c.encode(labelStatus, forKey: .labelStatus)
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
    package var identity: RowIdentity
    package var metadata: Covariates

    /// Who scored the row, and what CJE reads beside the score.
    package struct Covariates: Encodable, Sendable {
        package var provenance: Provenance
        package var labelPropensity: Double
        package var judgeScoreVariance: Double?
        package var responseTokens: Int?
        /// Whether the judge's and (for a drawn row) the oracle's greedy answers parsed.
        package var judgeParseOk: Bool?
        package var oracleParseOk: Bool?
        package var labelStatus: LabelStatus
        /// Why a drawn row has no label (`label_status: missing`).
        package var labelError: String?

        package enum CodingKeys: String, CodingKey, CaseIterable {
            case judge, oracle, date
            case judgeRubric = "judge_rubric"
            case oracleRubric = "oracle_rubric"
            case judgeTemperature = "judge_temperature"
            case oracleTemperature = "oracle_temperature"
            case labelPropensity = "label_propensity"
            case judgeScoreVariance = "judge_score_variance"
            case responseTokens = "response_tokens"
            case judgeParseOk = "judge_parse_ok"
            case oracleParseOk = "oracle_parse_ok"
            case labelStatus = "label_status"
            case labelError = "label_error"
        }

        package func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(provenance.judge, forKey: .judge)
            try c.encode(provenance.judgeRubric, forKey: .judgeRubric)
            try c.encode(provenance.judgeTemperature, forKey: .judgeTemperature)
            try c.encode(provenance.oracle, forKey: .oracle)
            try c.encode(provenance.oracleRubric, forKey: .oracleRubric)
            try c.encode(provenance.oracleTemperature, forKey: .oracleTemperature)
            try c.encodeIfPresent(provenance.date, forKey: .date)
            try c.encode(labelPropensity, forKey: .labelPropensity)
            try c.encodeIfPresent(judgeScoreVariance, forKey: .judgeScoreVariance)
            try c.encodeIfPresent(responseTokens, forKey: .responseTokens)
            try c.encode(judgeParseOk, forKey: .judgeParseOk)
            try c.encode(oracleParseOk, forKey: .oracleParseOk)
            try c.encode(labelStatus, forKey: .labelStatus)
            try c.encodeIfPresent(labelError, forKey: .labelError)
        }
    }

    /// The judge's and the oracle's model (a local file's sha256, or the provider and its model),
    /// their rubrics' versions (the prompt variant), the temperature their answers were drawn at
    /// (0: not sampled; 1 under `uncertainty: samples`) and the run's day (fixed when the run
    /// began, so a resume or a shard writes the same): the same on every row of a run.
    package struct Provenance: Sendable, Hashable {
        package var judge: String
        package var judgeRubric: String
        package var judgeTemperature: Double
        package var oracle: String
        package var oracleRubric: String
        package var oracleTemperature: Double
        package var date: String?
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
        case recordId = "record_id"
        case clusterId = "cluster_id"
    }

    package func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(identity.recordId, forKey: .recordId)
        try c.encode(identity.clusterId, forKey: .clusterId)
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

/// What a row's identity is made of, the same in every file of the bundle: `record_id`, the
/// first 16 hex digits of sha256 over the prompt id, the policy, the draw and the judge rubric's
/// version (unit-separated), and `cluster_id`, the prompt (a prompt's rows are one cluster).
package struct RowIdentity: Sendable, Hashable {
    package var recordId: String
    package var clusterId: String

    package init(promptId: String, policy: String, draw: Int, rubric: String) {
        let text = [promptId, policy, String(draw), rubric].joined(separator: "\u{1F}")
        recordId = String(Checksum.sha256(Data(text.utf8)).prefix(16))
        clusterId = promptId
    }
}

/// Where a row stands with the oracle: drawn and labelled, not drawn, or drawn and missing.
package enum LabelStatus: String, Encodable, Sendable {
    case labelled
    case notDrawn = "not_drawn"
    case missing
}

/// A row of `cje/frame/{policy}.jsonl`: one sampled row (a draw of the policy on a prompt of
/// the sample), complete (in `cje/responses/`) or missing, with the stage and kind of its
/// failure, its label status, and its inclusion probabilities. cje-eval 0.9.3 refuses a
/// fresh-draw record without a judge score, so the missing rows live here and not in the files
/// it reads.
package struct FrameRow: Encodable, Sendable {
    package var identity: RowIdentity
    package var promptId: String
    package var policy: String
    package var drawIdx: Int
    /// `complete` (in `cje/responses/`) or `missing`.
    package var status: String
    /// The stage a missing row failed at (`generate`, `judge`), its message and its kind.
    package var missingStage: String?
    package var error: String?
    package var errorKind: FailureKind?
    package var judgeScore: Double?
    package var judgeParseOk: Bool?
    package var label: LabelStatus
    package var oracleLabel: Double?
    package var labelError: String?
    /// The probability the row was drawn for a label, before any result.
    package var labelInclusionProbability: Double
    /// The logging policy's draw 0: whether the row is in `cje/cje_dataset.jsonl`, and why not.
    package var logged: Bool?
    package var loggedError: String?

    package enum CodingKeys: String, CodingKey, CaseIterable {
        case status, error, label, policy, logged
        case recordId = "record_id"
        case clusterId = "cluster_id"
        case promptId = "prompt_id"
        case drawIdx = "draw_idx"
        case missingStage = "missing_stage"
        case errorKind = "error_kind"
        case judgeScore = "judge_score"
        case judgeParseOk = "judge_parse_ok"
        case oracleLabel = "oracle_label"
        case labelError = "label_error"
        case labelInclusionProbability = "label_inclusion_probability"
        case loggedError = "logged_error"
    }

    package func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(identity.recordId, forKey: .recordId)
        try c.encode(identity.clusterId, forKey: .clusterId)
        try c.encode(promptId, forKey: .promptId)
        try c.encode(policy, forKey: .policy)
        try c.encode(drawIdx, forKey: .drawIdx)
        try c.encode(status, forKey: .status)
        try c.encode(missingStage, forKey: .missingStage)
        try c.encode(error, forKey: .error)
        try c.encodeIfPresent(errorKind, forKey: .errorKind)
        try c.encode(judgeScore, forKey: .judgeScore)
        try c.encode(judgeParseOk, forKey: .judgeParseOk)
        try c.encode(label, forKey: .label)
        try c.encode(oracleLabel, forKey: .oracleLabel)
        try c.encodeIfPresent(labelError, forKey: .labelError)
        try c.encode(labelInclusionProbability, forKey: .labelInclusionProbability)
        try c.encodeIfPresent(logged, forKey: .logged)
        try c.encodeIfPresent(loggedError, forKey: .loggedError)
    }
}
