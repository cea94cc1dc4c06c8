/// A line of the oracle label files. Rows outside the labelled slice have no `y_true`; a
/// labelled row whose oracle failed has no `y_true` either, and an `error`.
public struct OracleRecord: Codable, Sendable, Hashable {
    public var promptId: String
    public var policy: String
    public var context: String
    public var response: String
    public var model: String
    public var yTrue: Double?
    public var oracleFull: JudgeValue?
    public var oracleModel: String
    public var selected: Bool
    public var error: String?
    /// The draw, for draws after the first (absent for draw 0).
    public var drawIdx: Int?

    enum CodingKeys: String, CodingKey {
        case policy, context, response, model, selected, error
        case promptId = "prompt_id"
        case yTrue = "y_true"
        case oracleFull = "oracle_full"
        case oracleModel = "oracle_model"
        case drawIdx = "draw_idx"
    }
}
