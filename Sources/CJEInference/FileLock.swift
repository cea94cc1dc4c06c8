public import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// An advisory `flock` on a file, held until `release()` or the process ends (the kernel drops
/// it however the process ends, so a killed holder leaves no stale lock): the project's one
/// file-lock primitive, for run directories and the Hugging Face cache. One lock per open, so it
/// also keeps two opens within one process apart.
public struct FileLock: Sendable {
    public let descriptor: Int32

    /// Why a lock file could not be opened or locked (not: another holds it).
    public struct Failure: Error, LocalizedError, Sendable {
        public let path: String
        public let code: Int32
        /// "open" or "lock".
        public let action: String
        public var errorDescription: String? { "cannot \(action) \(path): \(FileFailure.describe(errno: code))" }
    }

    /// Opens `path` (creating it) and takes the lock without waiting; nil when another holds it.
    public static func attempt(_ path: String, exclusive: Bool) throws -> FileLock? {
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw Failure(path: path, code: errno, action: "open") }
        guard flock(fd, (exclusive ? LOCK_EX : LOCK_SH) | LOCK_NB) == 0 else {
            let code = errno
            close(fd)
            if code == EWOULDBLOCK || code == EINTR { return nil }
            throw Failure(path: path, code: code, action: "lock")
        }
        return FileLock(descriptor: fd)
    }

    /// Takes the exclusive lock of `path`, waiting (without blocking a thread) while another
    /// holds it; `waiting` is called once, when it first has to wait.
    public static func acquire(_ path: String, waiting: () -> Void) async throws -> FileLock {
        var told = false
        while true {
            if let lock = try attempt(path, exclusive: true) { return lock }
            if !told {
                waiting()
                told = true
            }
            try await Task.sleep(nanoseconds: 200_000_000)
        }
    }

    /// Whether someone holds `path`'s lock now (false when the file does not exist).
    public static func isHeld(_ path: String) -> Bool {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        if flock(fd, LOCK_SH | LOCK_NB) == 0 {
            flock(fd, LOCK_UN)
            return false
        }
        return true
    }

    /// Unlocks and closes.
    public func release() {
        flock(descriptor, LOCK_UN)
        close(descriptor)
    }
}
