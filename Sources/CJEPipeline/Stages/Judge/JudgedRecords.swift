/// What the judge stage writes and hands on: the four phase2 files' records, each in the order
/// of the responses file (prompt by prompt, policies in config order).
public struct JudgedRecords: Sendable, Hashable {
    /// `phase2/p0_scored_deterministic.jsonl` and `phase2/p0_scored_uncertainty.jsonl`.
    public var p0Deterministic: [ScoredRecord] = []
    public var p0Uncertainty: [ScoredRecord] = []
    /// `phase2/targets_scored_deterministic.jsonl` and `phase2/targets_scored_uncertainty.jsonl`.
    public var targetsDeterministic: [ScoredRecord] = []
    public var targetsUncertainty: [ScoredRecord] = []
    /// Every policy's draws after the first (`draws` > 1), with `draw_idx`:
    /// `phase2/draws_scored_deterministic.jsonl` and `phase2/draws_scored_uncertainty.jsonl`.
    public var drawsDeterministic: [ScoredRecord] = []
    public var drawsUncertainty: [ScoredRecord] = []

    public init() {}

    /// Every deterministic record, P0's first.
    public var deterministic: [ScoredRecord] { p0Deterministic + targetsDeterministic }
    /// Every uncertainty record of the first draws, P0's first.
    public var uncertainty: [ScoredRecord] { p0Uncertainty + targetsUncertainty }
    /// Every uncertainty record, every draw: the first draws (P0's first), then the others.
    public var everyDrawUncertainty: [ScoredRecord] { uncertainty + drawsUncertainty }
    /// Every deterministic record, every draw: the first draws (P0's first), then the others.
    public var everyDrawDeterministic: [ScoredRecord] { deterministic + drawsDeterministic }
}
