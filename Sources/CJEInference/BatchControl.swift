/// What a caller may add to a batch: each request's result as soon as it is final, and a way to
/// stop early.
public struct BatchControl<Value: Sendable>: Sendable {
    /// Told (request index, result) as each request finishes, on the engine's thread; each index
    /// at most once, and never for a request abandoned by a stop.
    public var each: (@Sendable (Int, Result<Value, any Error>) -> Void)?
    /// Asked between decoding steps; once it says true, the requests not finished yet are
    /// abandoned (their results are `EngineStopped` failures).
    public var shouldStop: (@Sendable () -> Bool)?

    public init(
        each: (@Sendable (Int, Result<Value, any Error>) -> Void)? = nil, shouldStop: (@Sendable () -> Bool)? = nil
    ) {
        self.each = each
        self.shouldStop = shouldStop
    }

    public static var none: BatchControl { BatchControl() }

    public var stopRequested: Bool { shouldStop?() ?? false }

    /// Tells `each` one request's final result.
    public func tell<Failure: Error>(_ index: Int, _ result: Result<Value, Failure>) {
        each?(index, result.mapError { $0 as any Error })
    }

    /// Tells `each` every result already final (the requests refused before decoding).
    public func tell<Failure: Error>(_ results: [Result<Value, Failure>?]) {
        for (index, result) in results.enumerated() { if let result { tell(index, result) } }
    }
}

/// The result of a request a batch abandoned because its caller asked it to stop.
public struct EngineStopped: Error, Sendable, Hashable, CustomStringConvertible {
    public init() {}
    public var description: String { "abandoned: the batch was asked to stop" }
}
