import CJEInference
import Foundation

/// A request to stop, as SIGINT or SIGTERM make it: stages take no new work once it is set, the
/// engines abandon what is in flight, and everything finished is journaled before the pipeline
/// throws `PipelineError.stopped`. The command line's signal handlers set `StopFlag.process`;
/// tests make their own.
public final class StopFlag: Sendable {
    /// The process's own flag, set by the signal handlers.
    public static let process = StopFlag()

    private let state = LockedValue<String?>(nil)

    public init() {}

    /// Asks to stop; `reason` names the signal ("SIGTERM"). The first request is kept.
    public func request(_ reason: String) {
        state.update { $0 = $0 ?? reason }
    }

    /// The reason a stop was asked for, or nil.
    public var reason: String? { state.access { $0 } }

    public var isRequested: Bool { reason != nil }

    /// An engine batch's control: each result handed to `each` as it is final, the batch
    /// abandoned once a stop is asked for.
    func control<Value>(each: (@Sendable (Int, Result<Value, any Error>) -> Void)?) -> BatchControl<Value> {
        BatchControl(each: each, shouldStop: { self.isRequested })
    }

    /// Throws `PipelineError.stopped` when a stop was asked for.
    public func check() throws {
        if let reason { throw PipelineError.stopped(signal: reason) }
    }
}
