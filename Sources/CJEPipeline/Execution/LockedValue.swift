import Foundation

/// A value behind a lock, for state shared with callbacks that may run on any thread.
final class LockedValue<T>: @unchecked Sendable {
    private var value: T
    private let lock = NSLock()

    init(_ value: T) { self.value = value }

    /// Changes the value under the lock and returns the new value.
    func update(_ body: (inout T) -> Void) -> T {
        lock.lock()
        defer { lock.unlock() }
        body(&value)
        return value
    }
}
