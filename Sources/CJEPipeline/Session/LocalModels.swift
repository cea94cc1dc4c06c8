public import CJEInference
public import Foundation

/// The local models a run uses, loaded, and the engines made from them. The library knows
/// engines only through this protocol; the program supplies it (the command line wires
/// llama.cpp, `CJELlama`; the fast tier a fake engine).
public protocol LocalModels: Sendable {
    /// What each loaded model says about itself, by config name.
    var infos: [String: ModelInfo] { get }
    /// The engine build, e.g. "llama.cpp 0c1e57098 [AVX2 ...]": part of the fingerprint.
    var engineIdentity: String { get }
    /// A line about the engine's build and the machine, for the log.
    var systemInfo: String { get }
    /// The engine of a configured model, made on first use; templates that read the date
    /// render `chatDate`.
    func engine(for name: String, chatDate: ChatDate) throws -> any TextEngine
    /// Sends the engine's own log lines to `sink` (nil: back to none).
    func routeLog(to sink: (@Sendable (String) -> Void)?)
}

extension LocalModels {
    public func routeLog(to sink: (@Sendable (String) -> Void)?) {}
}

/// Loads the models a config names; `files` are their local files by config name (the
/// Hugging Face models already fetched, the others from `ModelFiles.path`). Bad input (a
/// missing file, a model the engine refuses) fails here, before anything is written.
public typealias LocalModelLoader =
    @Sendable (_ config: PipelineConfig, _ files: [String: String]) throws -> any LocalModels

/// Where a configured model's file is.
public enum ModelFiles {
    /// The configured path, or for a model without one the demo model (`$CJE_MODEL`, or the
    /// bootstrap's copy in the cache).
    public static func path(
        of name: String, _ model: ModelConfig,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws -> String {
        if let path = model.path { return (path as NSString).expandingTildeInPath }
        if let path = environment["CJE_MODEL"], !path.isEmpty { return path }
        let cache = environment["CJE_CACHE"] ?? (NSHomeDirectory() + "/.cache/cje-prep")
        let demo = cache + "/models/SmolLM2-135M-Instruct.Q8_0.gguf"
        guard FileManager.default.fileExists(atPath: demo) else {
            throw PipelineError.impossible(
                "model '\(name)' has no path and the demo model is not at \(demo): run `scripts/bootstrap.sh model` (or `make demo`) once, or set models.\(name).path in the config"
            )
        }
        return demo
    }
}
