import CJEInference
public import Foundation

/// An append-only JSONL journal of finished work items. Each entry is written as its item
/// finishes (so a killed process loses only what was in flight) and synced to disk at most
/// `syncInterval` after it was written; a line torn by a crash is dropped on load (and cut from
/// the file, so the next append starts on a fresh line), and its item is simply done again.
public struct Journal<Entry: Codable>: Sendable {
    public let url: URL

    public init(url: URL) {
        self.url = url
    }

    /// Every complete entry, in the order written.
    public func load() throws -> [Entry] {
        guard FileManager.default.fileExists(atPath: url.path) else { return [] }
        try cutTornTail()
        return try JSONLines.decode(Entry.self, from: url, unterminated: .drop)
    }

    /// Opens the journal for appending entry by entry.
    public func appender(syncInterval: TimeInterval = 1) throws -> Appender {
        try Appender(url: url, syncInterval: syncInterval)
    }

    /// Appends entries as they come: each is written (to the kernel) at once, so it survives
    /// the process being killed; a sync follows when `syncInterval` has passed since the last
    /// one, and on `sync()`. Safe to call from any thread.
    public final class Appender: Sendable {
        public let url: URL
        private let syncInterval: TimeInterval
        private let state: LockedValue<State>

        /// The open file (nil once closed or after a failed write) and what is not yet synced.
        private struct State {
            var handle: FileHandle?
            var lastSync = Date()
            var unsynced = false

            mutating func sync() throws {
                guard unsynced, let handle else { return }
                try handle.synchronize()
                unsynced = false
                lastSync = Date()
            }
        }

        init(url: URL, syncInterval: TimeInterval) throws {
            self.url = url
            self.syncInterval = syncInterval
            do {
                try FileManager.default.createDirectory(
                    at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
                if !FileManager.default.fileExists(atPath: url.path) {
                    guard FileManager.default.createFile(atPath: url.path, contents: nil) else {
                        throw CocoaError(.fileWriteUnknown)
                    }
                }
                let handle = try FileHandle(forWritingTo: url)
                try handle.seekToEnd()
                state = LockedValue(State(handle: handle))
            } catch {
                throw PipelineError.unwritable(path: url.path, detail: FileFailure.describe(error))
            }
        }

        deinit { close() }

        public func append(_ entries: [Entry]) throws {
            guard !entries.isEmpty else { return }
            let data = try JSONLines.encode(entries)
            try state.access { state in
                guard let handle = state.handle else {
                    throw PipelineError.unwritable(path: url.path, detail: "the journal is closed")
                }
                let end = try? handle.offset()
                do {
                    try FileFaults.check(url, bytes: data.count)
                    try handle.write(contentsOf: data)
                    state.unsynced = true
                    if Date().timeIntervalSince(state.lastSync) >= syncInterval { try state.sync() }
                } catch {
                    // A part of a line may have been written (a disk that filled mid-line): cut
                    // it, so that the journal stays whole lines, and take no more.
                    if let end { try? handle.truncate(atOffset: end) }
                    try? handle.close()
                    state.handle = nil
                    throw PipelineError.unwritable(path: url.path, detail: FileFailure.describe(error))
                }
            }
        }

        /// Syncs what was written to disk.
        public func sync() throws {
            try state.access { state in
                do { try state.sync() } catch {
                    throw PipelineError.unwritable(path: url.path, detail: FileFailure.describe(error))
                }
            }
        }

        public func close() {
            state.update { state in
                try? state.sync()
                try? state.handle?.close()
                state.handle = nil
            }
        }
    }

    /// Cuts an unterminated last line left by a crash mid-write.
    private func cutTornTail() throws {
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw PipelineError.unreadable(path: url.path, detail: FileFailure.describe(error))
        }
        guard let last = data.last, last != UInt8(ascii: "\n") else { return }
        let keep = (data.lastIndex(of: UInt8(ascii: "\n")).map { $0 + 1 }) ?? 0
        do {
            let handle = try FileHandle(forWritingTo: url)
            defer { try? handle.close() }
            try handle.truncate(atOffset: UInt64(keep))
            try handle.synchronize()
        } catch {
            throw PipelineError.unwritable(path: url.path, detail: FileFailure.describe(error))
        }
    }
}
