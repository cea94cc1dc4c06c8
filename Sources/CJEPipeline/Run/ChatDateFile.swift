public import CJEInference
public import Foundation

extension ChatDate {
    /// The day a new run directory takes: `CJE_CHAT_DATE` (`YYYY-MM-DD`) when it is set, so runs
    /// made in different directories on different days can be compared byte for byte (every
    /// exported row carries its run's day); otherwise today (UTC).
    public static func forNewRun(_ environment: [String: String] = ProcessInfo.processInfo.environment) throws
        -> ChatDate
    {
        guard let text = environment["CJE_CHAT_DATE"], !text.isEmpty else { return .today }
        guard let day = ChatDate(day: text) else {
            throw PipelineError.impossible("CJE_CHAT_DATE is '\(text.prefix(40))', not a day YYYY-MM-DD")
        }
        return day
    }
}

extension RunDirectory {
    /// The run's chat-template day: the one in `chat-date`, or today (UTC), written there now by
    /// whichever invocation comes first (created exclusively, so shards that start together
    /// agree). A resume, a shard and a merge started on another day render the same bytes.
    public func fixedChatDate(today: ChatDate = .today) throws -> ChatDate {
        if let existing = try readChatDate() { return existing }
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        let temporary = root.appendingPathComponent(".chat-date.\(ProcessInfo.processInfo.processIdentifier)")
        do {
            try Data((today.day + "\n").utf8).write(to: temporary)
        } catch {
            throw PipelineError.unwritable(path: temporary.path, detail: FileFailure.describe(error))
        }
        defer { try? FileManager.default.removeItem(at: temporary) }
        // link(2) fails when the name exists: the first writer wins, the others read its day.
        if link(temporary.path, chatDate.path) != 0, errno != EEXIST {
            throw PipelineError.unwritable(path: chatDate.path, detail: FileFailure.describe(errno: errno))
        }
        guard let fixed = try readChatDate() else {
            throw PipelineError.unreadable(path: chatDate.path, detail: "it vanished while it was written")
        }
        return fixed
    }

    private func readChatDate() throws -> ChatDate? {
        guard let data = FileManager.default.contents(atPath: chatDate.path) else { return nil }
        let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard let date = ChatDate(day: text) else {
            throw PipelineError.malformedFile(
                path: chatDate.path, detail: "it holds '\(text.prefix(40))', not a day YYYY-MM-DD")
        }
        return date
    }
}
