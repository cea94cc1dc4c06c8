public import Foundation

/// An append-only JSONL journal of finished work items. Appends are synced to disk per batch; a
/// line torn by a crash is dropped on load (and cut from the file, so the next append starts on
/// a fresh line), and its item is simply done again.
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

    /// Appends entries and syncs them to disk before returning.
    public func append(_ entries: [Entry]) throws {
        guard !entries.isEmpty else { return }
        let data = try JSONLines.encode(entries)
        do {
            try FileManager.default.createDirectory(
                at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            if !FileManager.default.fileExists(atPath: url.path) {
                _ = FileManager.default.createFile(atPath: url.path, contents: nil)
            }
            let handle = try FileHandle(forWritingTo: url)
            defer { try? handle.close() }
            try handle.seekToEnd()
            try handle.write(contentsOf: data)
            try handle.synchronize()
        } catch {
            throw PipelineError.unwritable(path: url.path, detail: error.localizedDescription)
        }
    }

    /// Cuts an unterminated last line left by a crash mid-write.
    private func cutTornTail() throws {
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw PipelineError.unreadable(path: url.path, detail: error.localizedDescription)
        }
        guard let last = data.last, last != UInt8(ascii: "\n") else { return }
        let keep = (data.lastIndex(of: UInt8(ascii: "\n")).map { $0 + 1 }) ?? 0
        do {
            let handle = try FileHandle(forWritingTo: url)
            defer { try? handle.close() }
            try handle.truncate(atOffset: UInt64(keep))
            try handle.synchronize()
        } catch {
            throw PipelineError.unwritable(path: url.path, detail: error.localizedDescription)
        }
    }
}
