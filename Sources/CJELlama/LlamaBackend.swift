import CJEInference
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

    /// The tensor types this process repacks (`BatchInvariance.repackedTypes` of this build),
    /// decided once, when llama.cpp is initialised.
    static var repackedTypes: [String] { initialized }

    /// Initialises llama.cpp and returns the types it was let repack.
    private static let initialized: [String] = {
        // ggml-cpu's tiled K-quant matrix product (Q2_K-Q6_K, IQ4_XS, IQ1-IQ3) serves a product only
        // when it has 8 or more rows and picks its tiling by the row count, so a token's numbers
        // changed with what shared its batch (measured on Gemma 3 Q4_K_M: one text scored -227.53,
        // -227.34 and -228.85 nats at ubatch 512, 13 and 1). Off, every output element is one
        // vec_dot in a fixed order. ggml reads the variable once, at its first product, so it is
        // set before anything else; a value in the environment is overridden on purpose.
        setenv("GGML_CPU_TILED_MM", "0", 1)
        llama_log_set(logCallback, nil)
        llama_backend_init()
        // Repacked weight layouts only for the types proven batch-invariant on this build (read
        // at the first weight placed, so after the backend is up and before any model loads).
        let info = String(cString: llama_print_system_info())
        let repacked = BatchInvariance.repackedTypes(systemInfo: info)
        setenv("GGML_CPU_REPACK_TYPES", repacked.map { $0.lowercased() }.joined(separator: ","), 1)
        return repacked
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
        // Debug lines (one per KV restore, per graph, ...) would bury a run's log; CJE_LLAMA_LOG=1
        // shows them.
        if level != GGML_LOG_LEVEL_DEBUG { state.emit(text) }
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

/// Where llama.cpp's own log lines go besides the error buffer: e.g. a run's log file.
public enum LlamaLog {
    /// Sends every complete llama.cpp log line (without its newline) to `sink`.
    public static func route(to sink: (@Sendable (String) -> Void)?) {
        LlamaBackend.ensureInitialized()
        LlamaBackend.setSink(sink)
    }

    /// llama.cpp's description of the CPU backend it was built with.
    public static var systemInfo: String { LlamaBackend.systemInfo }
}

extension LlamaBackend {
    fileprivate static func setSink(_ sink: (@Sendable (String) -> Void)?) { state.sink = sink }
}

/// llama.cpp's log as it comes: the last lines (for an error's detail) and the sink whole lines
/// go to.
private final class LogState: Sendable {
    private struct State {
        var lines: [String] = []
        var sink: (@Sendable (String) -> Void)?
        var partial = ""
    }
    private let state = LockedValue(State())

    /// llama.cpp writes lines in pieces; whole lines go to the sink.
    func emit(_ text: String) {
        let (sink, complete): ((@Sendable (String) -> Void)?, [Substring]) = state.access { state in
            guard let sink = state.sink else { return (nil, []) }
            state.partial += text
            var complete: [Substring] = []
            if let end = state.partial.lastIndex(of: "\n") {
                complete = state.partial[..<end].split(separator: "\n")
                state.partial = String(state.partial[state.partial.index(after: end)...])
            }
            return (sink, complete)
        }
        guard let sink else { return }
        for line in complete where !line.trimmingCharacters(in: .whitespaces).isEmpty { sink(String(line)) }
    }

    var sink: (@Sendable (String) -> Void)? {
        get { state.access { $0.sink } }
        set { state.update { $0.sink = newValue } }
    }

    func append(_ line: String) {
        guard !line.isEmpty else { return }
        state.update {
            $0.lines.append(line)
            if $0.lines.count > 8 { $0.lines.removeFirst($0.lines.count - 8) }
        }
    }

    func take() -> String {
        state.access { state in
            let joined = state.lines.joined(separator: "; ")
            state.lines.removeAll()
            return joined
        }
    }
}
