import Foundation

/// A value behind a lock, for state shared with callbacks that may run on any thread: the one
/// lock primitive of the project.
///
/// Invariant for `@unchecked Sendable`: `value` is only read or written while `lock` is held.
public final class LockedValue<T>: @unchecked Sendable {
    private var value: T
    private let lock = NSLock()

    public init(_ value: T) { self.value = value }

    /// Changes the value under the lock and returns the new value.
    @discardableResult
    public func update(_ body: (inout T) -> Void) -> T {
        lock.lock()
        defer { lock.unlock() }
        body(&value)
        return value
    }

    /// Reads or changes the value under the lock and returns what `body` returns.
    public func access<R>(_ body: (inout T) throws -> R) rethrows -> R {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }

    /// The value now.
    public var current: T { access { $0 } }
}

extension LockedValue where T == Void {
    /// A lock and nothing else, for C state that one thread at a time may touch.
    public convenience init() { self.init(()) }

    /// Runs `body` under the lock.
    public func withLock<R>(_ body: () throws -> R) rethrows -> R { try access { _ in try body() } }
}
