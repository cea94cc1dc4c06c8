/// What the oracle stage hands on: every row of each task's population, labelled or not
/// (`selected` says which were in the slice; the `data/` files hold the selected rows only).
public struct OracleLabels: Sendable, Hashable {
    /// P0's responses: `phase2/labeling/oracle_population_calibration.jsonl`.
    public var calibration: [OracleRecord] = []
    /// The target policies' responses: `phase2/labeling/oracle_population_validation.jsonl`.
    public var validation: [OracleRecord] = []

    public init() {}

    /// The oracle's label of each labelled item.
    public var labels: [ItemKey: Double] {
        var out: [ItemKey: Double] = [:]
        for record in calibration + validation {
            if let y = record.yTrue { out[ItemKey(promptId: record.promptId, policy: record.policy)] = y }
        }
        return out
    }
}
