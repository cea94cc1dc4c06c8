/// A journaled, per-item stage: what it owes for its input, how one batch is worked, what
/// counts as a failure, and how its output files are written from the journal. `StageRunner`
/// owns everything else: the journal, which items are due, batching, progress, the failure
/// threshold and the report. A new stage of this kind is one conformance.
public protocol ItemStage: Sendable {
    /// What the stage reads (from the stage before it, in memory).
    associatedtype Input: Sendable
    /// What one item needs to be worked.
    associatedtype Payload: Sendable
    /// One item's journaled result.
    associatedtype Value: Codable & Sendable & Hashable
    /// What the stage hands to the stages after it.
    associatedtype Output: Sendable

    /// Names the journal (`state/<name>.journal.jsonl`), the report and the progress lines.
    var name: String { get }

    /// Every item the stage owes for `input`, in the order they are worked.
    func items(for input: Input) throws -> [StageItem<Payload>]

    /// A value that failed: null in the outputs, retried on a later run up to `max_attempts`.
    func isFailure(_ value: Value) -> Bool

    /// A failure that would come again the same way (a prompt too long for a sequence, a text
    /// the chat template cannot render): never retried.
    func isPermanent(_ value: Value) -> Bool

    /// Items handed to `process` at once on `lane` (and journaled together).
    func batchSize(on lane: Lane) throws -> Int

    /// Works one batch on one lane: one value per item, in order. A value is nil only when the
    /// batch stopped before its item (`BatchResult.stop` says why). `finished(k, value)` should
    /// be told each item's value as soon as it is final, so it is journaled at once (a kill then
    /// loses only what was in flight); on a stop (`StageContext.stop`) only those are kept.
    /// Throwing stops the stage (what `finished` was told is journaled, the rest is not).
    func process(
        _ batch: [Payload], on lane: Lane, finished: @escaping @Sendable (Int, Value) -> Void
    ) async throws -> BatchResult<Value>

    /// Writes the stage's output files from the latest journaled value of each item (items
    /// never worked are absent) and counts the outcome.
    func write(_ input: Input, values: [ItemKey: Value]) throws -> StageOutcome<Output>

    /// At a merge the shards' journals are taken as they are; a stage whose items a shard can
    /// miss through no fault (the oracle's `original` slice moves when other shards' responses
    /// failed) works the items no journal holds there. Others refuse to merge without them.
    var fillsGapsAtMerge: Bool { get }
}

extension ItemStage {
    public func isPermanent(_ value: Value) -> Bool { false }
    public var fillsGapsAtMerge: Bool { false }
}
