/// What the oracle stage hands on: every row of each task's population, labelled or not
/// (`selected` says which were in the slice; the `data/` files hold the selected rows only).
public struct OracleLabels: Sendable {
    /// P0's responses: `phase2/labeling/oracle_population_calibration.jsonl`.
    public var calibration: [OracleRecord] = []
    /// The target policies' responses: `phase2/labeling/oracle_population_validation.jsonl`.
    public var validation: [OracleRecord] = []
    /// The target policies' held-out probes (`oracle.probes`): never calibration labels.
    public var probes: [OracleRecord] = []

    public init() {}

    /// The oracle's label of each labelled item (calibration and validation; probes are apart).
    public var labels: [ItemKey: Double] { Self.labels(of: calibration + validation) }

    /// The probe labels of each probed item.
    public var probeLabels: [ItemKey: Double] { Self.labels(of: probes) }

    /// The record of each row drawn for a label (calibration and validation), labelled or not.
    public var drawn: [ItemKey: OracleRecord] {
        var out: [ItemKey: OracleRecord] = [:]
        for record in calibration + validation where record.selected {
            out[ItemKey(promptId: record.promptId, policy: record.policy, draw: record.drawIdx ?? 0)] = record
        }
        return out
    }

    private static func labels(of records: [OracleRecord]) -> [ItemKey: Double] {
        var out: [ItemKey: Double] = [:]
        for record in records {
            if let y = record.yTrue {
                out[ItemKey(promptId: record.promptId, policy: record.policy, draw: record.drawIdx ?? 0)] = y
            }
        }
        return out
    }
}
