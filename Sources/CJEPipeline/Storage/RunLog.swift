import CJEInference
public import Foundation

/// One log file per invocation, in `<run>/logs/`: every line the console showed plus debug
/// detail, each stamped with the UTC time and a level. Lines reach the file as they are
/// written, so a killed run leaves its log complete up to the kill.
public final class RunLog: Sendable {
    public let url: URL
    private let console: @Sendable (String) -> Void
    private let state: LockedValue<State>

    /// The file, its time stamps, and the first write that failed.
    private struct State {
        let handle: FileHandle
        let stamper: ISO8601DateFormatter = {
            let formatter = ISO8601DateFormatter()
            formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
            return formatter
        }()
        var firstFailure: PipelineError?
    }

    /// The first write to the log that failed (a full disk, an I/O error): the invocation ends
    /// with it as an error once its work is saved, instead of running on with a log that stops.
    public var failure: PipelineError? { state.access { $0.firstFailure } }

    /// Creates `<directory>/<command>-<yyyyMMdd-HHmmss>Z-<pid>.log`.
    public init(
        directory: URL, command: String, date: Date = Date(),
        console: @escaping @Sendable (String) -> Void = { print($0) }
    ) throws {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd-HHmmss"
        let name = "\(command)-\(formatter.string(from: date))Z-\(ProcessInfo.processInfo.processIdentifier).log"
        url = directory.appendingPathComponent(name)
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            guard FileManager.default.createFile(atPath: url.path, contents: nil) else {
                throw CocoaError(.fileWriteNoPermission)
            }
            state = LockedValue(State(handle: try FileHandle(forWritingTo: url)))
        } catch {
            throw PipelineError.unwritable(path: url.path, detail: FileFailure.describe(error))
        }
        self.console = console
    }

    deinit { state.access { try? $0.handle.close() } }

    /// Shown on the console and logged.
    public func info(_ text: String) {
        console(text)
        write("INFO ", text)
    }

    /// Logged only.
    public func debug(_ text: String) { write("DEBUG", text) }

    /// Logged only: the command line shows errors itself, on standard error.
    public func error(_ text: String) { write("ERROR", text) }

    private func write(_ level: String, _ text: String) {
        state.access { state in
            let stamp = state.stamper.string(from: Date())
            var lines = ""
            for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
                lines += "\(stamp) \(level) \(line)\n"
            }
            let data = Data(lines.utf8)
            do {
                try FileFaults.check(url, bytes: data.count)
                try state.handle.write(contentsOf: data)
            } catch {
                guard state.firstFailure == nil else { return }
                let failure = PipelineError.unwritable(path: url.path, detail: FileFailure.describe(error))
                state.firstFailure = failure
                FileHandle.standardError.write(Data("warning: \(failure.localizedDescription)\n".utf8))
            }
        }
    }
}
