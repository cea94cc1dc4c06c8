public import CJEInference

/// What one batch gave: a value per item, and the error that stopped it early (a 401, an unset
/// key, the budget), if any. The values that exist are journaled before the stop is thrown.
public struct BatchResult<Value: Sendable>: Sendable {
    public var values: [Value?]
    public var stop: (any Error)?
    /// Where a local engine's time went in this batch (the stage report keeps the sum).
    public var engine: EngineTimings?

    public init(values: [Value?], stop: (any Error)? = nil, engine: EngineTimings? = nil) {
        self.values = values
        self.stop = stop
        self.engine = engine
    }
}
