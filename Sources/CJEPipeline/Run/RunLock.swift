import CJEInference
public import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// One writer per run directory: an advisory `flock` on `<dir>/.cje-prep.lock`, held for the
/// whole invocation and released by the kernel when the process ends however it ends, so a
/// SIGKILLed run leaves no stale lock. The holder writes its pid, host and start time into the
/// file, and a refused invocation names them.
///
/// A plain run and a merge hold the directory's lock exclusively. A shard holds its own
/// `shards/K-of-M/.cje-prep.lock` exclusively and the directory's shared, so shards run side by
/// side while a merge (which needs the directory alone) waits for none of them to be running,
/// and no shard starts while a merge is.
public final class RunLock: Sendable {
    /// Who holds a lock, as its file says.
    public struct Holder: Codable, Sendable, Hashable, CustomStringConvertible {
        public var pid: Int32
        public var host: String
        public var started: String
        public var command: String

        public init(pid: Int32, host: String, started: String, command: String) {
            self.pid = pid
            self.host = host
            self.started = started
            self.command = command
        }

        public static func current(command: String) -> Holder {
            let formatter = ISO8601DateFormatter()
            return Holder(
                pid: ProcessInfo.processInfo.processIdentifier, host: ProcessInfo.processInfo.hostName,
                started: formatter.string(from: Date()), command: command)
        }

        public var description: String { "`cje-prep \(command)` (pid \(pid) on \(host), started \(started))" }
    }

    public static let fileName = ".cje-prep.lock"
    private let locks = LockedValue<[FileLock]>([])

    private init() {}

    deinit { release() }

    /// Takes the locks an invocation of `layout` needs in `run`, or throws naming the holder.
    /// Creates the directories it locks (nothing else).
    public static func acquire(_ run: RunDirectory, layout: RunLayout, command: String) throws -> RunLock {
        let lock = RunLock()
        let holder = Holder.current(command: command)
        switch layout {
        case .plain:
            try lock.take(run.root, exclusive: true, holder: holder, what: "the run directory")
        case .shard(let shard):
            try lock.take(run.root, exclusive: false, holder: nil, what: "the run directory")
            try lock.take(run.shard(shard).root, exclusive: true, holder: holder, what: "shard \(shard.name)")
        case .merge:
            try lock.take(run.root, exclusive: true, holder: holder, what: "the run directory")
        }
        return lock
    }

    /// Who holds the lock of `directory` now, or nil when nobody does (or nobody could be named).
    public static func holder(of directory: URL) -> Holder? {
        let path = directory.appendingPathComponent(fileName).path
        guard FileLock.isHeld(path) else { return nil }
        return readHolder(path)
    }

    /// Unlocks (also done by the kernel at exit).
    public func release() {
        let held = locks.access { held in
            defer { held = [] }
            return held
        }
        for lock in held.reversed() { lock.release() }
    }

    private func take(_ directory: URL, exclusive: Bool, holder: Holder?, what: String) throws {
        let path = directory.appendingPathComponent(Self.fileName).path
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw PipelineError.unwritable(path: directory.path, detail: FileFailure.describe(error))
        }
        let taken: FileLock?
        do {
            taken = try FileLock.attempt(path, exclusive: exclusive)
        } catch let failure as FileLock.Failure {
            let detail = FileFailure.describe(errno: failure.code)
            throw PipelineError.unwritable(
                path: path, detail: failure.action == "lock" ? "cannot lock: \(detail)" : detail)
        }
        guard let taken else {
            throw PipelineError.locked(path: directory.path, what: what, holders: Self.holders(directory))
        }
        locks.update { $0.append(taken) }
        let fd = taken.descriptor
        guard let holder else { return }
        let data = Array((try JSONEncoder().encode(holder)) + Data("\n".utf8))
        if ftruncate(fd, 0) != 0 || pwrite(fd, data, data.count, 0) != data.count {
            throw PipelineError.unwritable(path: path, detail: FileFailure.describe(errno: errno))
        }
    }

    /// Who holds `directory`'s lock: its own holder, or (for a run directory shared by
    /// shards) the shards that are running.
    private static func holders(_ directory: URL) -> [String] {
        let run = RunDirectory(root: directory)
        let shards = run.shards.compactMap { shard in
            holder(of: run.shard(shard).root).map { "shard \(shard.name): \($0)" }
        }
        if !shards.isEmpty { return shards }
        return holder(of: directory).map { [$0.description] } ?? []
    }

    private static func readHolder(_ path: String) -> Holder? {
        guard let data = FileManager.default.contents(atPath: path), !data.isEmpty else { return nil }
        return try? JSONDecoder().decode(Holder.self, from: data)
    }
}
