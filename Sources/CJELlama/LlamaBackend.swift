import CLlama
import Foundation

/// Process-wide llama.cpp state: backend initialisation once, and its log routed away from stderr.
///
/// llama.cpp logs through one global callback. We keep the most recent error lines so that a
/// failed load can say why, and print nothing unless `CJE_LLAMA_LOG=1`.
enum LlamaBackend {
    private static let state = LogState()

    /// Initialises llama.cpp once per process.
    static func ensureInitialized() {
        _ = initialized
    }

    private static let initialized: Bool = {
        llama_log_set(logCallback, nil)
        llama_backend_init()
        return true
    }()

    /// llama.cpp's description of its CPU backend ("CPU : SSE3 = 1 | ... | LLAMAFILE = 1 | ...").
    static var systemInfo: String {
        ensureInitialized()
        return String(cString: llama_print_system_info())
    }

    /// The last error or warning lines llama.cpp logged, joined; cleared on read.
    static func takeRecentErrors() -> String {
        state.take()
    }

    fileprivate static func record(level: ggml_log_level, text: String) {
        if ProcessInfo.processInfo.environment["CJE_LLAMA_LOG"] == "1" {
            FileHandle.standardError.write(Data(text.utf8))
        }
        if level == GGML_LOG_LEVEL_ERROR || level == GGML_LOG_LEVEL_WARN {
            state.append(text.trimmingCharacters(in: .whitespacesAndNewlines))
        }
    }
}

private let logCallback: @convention(c) (ggml_log_level, UnsafePointer<CChar>?, UnsafeMutableRawPointer?) -> Void = {
    level, text, _ in
    guard let text else { return }
    LlamaBackend.record(level: level, text: String(cString: text))
}

private final class LogState: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []

    func append(_ line: String) {
        guard !line.isEmpty else { return }
        lock.lock()
        defer { lock.unlock() }
        lines.append(line)
        if lines.count > 8 { lines.removeFirst(lines.count - 8) }
    }

    func take() -> String {
        lock.lock()
        defer { lock.unlock() }
        let joined = lines.joined(separator: "; ")
        lines.removeAll()
        return joined
    }
}
