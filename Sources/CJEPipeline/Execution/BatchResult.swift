/// What one batch gave: a value per item, and the error that stopped it early (a 401, an unset
/// key, the budget), if any. The values that exist are journaled before the stop is thrown.
public struct BatchResult<Value: Sendable>: Sendable {
    public var values: [Value?]
    public var stop: (any Error)?

    public init(values: [Value?], stop: (any Error)? = nil) {
        self.values = values
        self.stop = stop
    }
}
