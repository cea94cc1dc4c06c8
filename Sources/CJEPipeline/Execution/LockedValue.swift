import Foundation

/// A value behind a lock, for state shared with callbacks that may run on any thread.
final class LockedValue<T>: @unchecked Sendable {
    private var value: T
    private let lock = NSLock()

    init(_ value: T) { self.value = value }

    /// Changes the value under the lock and returns the new value.
    @discardableResult
    func update(_ body: (inout T) -> Void) -> T {
        lock.lock()
        defer { lock.unlock() }
        body(&value)
        return value
    }

    /// Reads or changes the value under the lock and returns what `body` returns.
    func access<R>(_ body: (inout T) throws -> R) rethrows -> R {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }
}
