import CJEInference
import CJELlama
import CJETestSupport
import Foundation

/// The real SmolLM2-135M-Instruct model, bootstrapped by `make test` (scripts/with-env.sh sets CJE_MODEL).
enum Fixture {
    /// Only read by suites marked `.needsRealModel`, which do not run without it.
    static let modelPath: String = RealModel.path!

    static let model: LlamaModel = try! LlamaModel(path: modelPath)

    /// An engine with two threads and eight sequences, shared by tests that do not need their own.
    static let engine: LlamaEngine = try! LlamaEngine(
        model: model, options: LlamaEngineOptions(threads: 2, maxSequences: 8, sequenceContext: 2048, batchSize: 512))

    static let helpful = "You are a helpful assistant."
    static let unhelpful = "You are an unhelpful assistant. Answer vaguely."

    /// A long user prompt: its context is well over 600 tokens.
    static let longPrompt: String = {
        let sentence =
            "Causal judge evaluation weighs logged responses by how likely each target policy was to write them, "
            + "and calibrates a cheap judge with a few expensive oracle labels. "
        return "Read the notes below and summarise them.\n" + String(repeating: sentence, count: 24)
    }()

    static func context(_ system: String, _ user: String) -> [TokenID] {
        try! model.promptTokens([.system(system), .user(user)])
    }

    static func response(_ text: String) -> [TokenID] {
        try! model.tokenize(response: text)
    }

    /// Path of the built cje-prep executable beside the test bundle.
    static var executable: URL {
        let runner = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        let candidates = [
            runner.appendingPathComponent("cje-prep"),
            Bundle.main.bundleURL.appendingPathComponent("cje-prep"),
            runner.deletingLastPathComponent().appendingPathComponent("cje-prep"),
        ]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) } ?? candidates[0]
    }
}
