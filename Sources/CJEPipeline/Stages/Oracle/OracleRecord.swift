public import CJEInference

/// A line of the oracle label files. Rows outside the labelled slice have no `y_true`; a
/// drawn row whose oracle failed, or that has no response to label (`response` null), has no
/// `y_true` either, and an `error`.
public struct OracleRecord: Codable, Sendable, Hashable {
    public var promptId: String
    public var policy: String
    public var context: String
    public var response: String?
    public var model: String
    public var yTrue: Double?
    public var oracleFull: JudgeValue?
    public var oracleModel: String
    public var selected: Bool
    public var error: String?
    /// The draw, for draws after the first (absent for draw 0).
    public var drawIdx: Int?
    /// `permanent` when the failure behind `error` would come again.
    public var errorKind: FailureKind?
    /// Whether the oracle's greedy answer parsed as a score 0-10 (absent when it gave none).
    public var parseOk: Bool?

    enum CodingKeys: String, CodingKey {
        case policy, context, response, model, selected, error
        case promptId = "prompt_id"
        case yTrue = "y_true"
        case oracleFull = "oracle_full"
        case oracleModel = "oracle_model"
        case drawIdx = "draw_idx"
        case errorKind = "error_kind"
        case parseOk = "parse_ok"
    }
}
