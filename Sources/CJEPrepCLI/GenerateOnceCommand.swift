import ArgumentParser
import CJEInference
import CJELlama
import Foundation

/// Generates one answer and prints its tokens and text as JSON: a probe for reproducibility
/// across processes (the tests run it in a fresh process).
struct GenerateOnceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate-once", abstract: "Generate one answer and print it as JSON.", shouldDisplay: false)

    @OptionGroup var modelOptions: ModelOptions
    @Option var system: String
    @Option var user: String
    @Option var temperature: Double = 0.5
    @Option var maxTokens: Int = 64
    @Option var seed: UInt64 = 0

    func run() async throws {
        let model = try modelOptions.load()
        var options = LlamaEngineOptions(maxSequences: 1)
        if let threads = modelOptions.threads { options.threads = threads }
        let engine = try LlamaEngine(model: model, options: options)
        let request = GenerationRequest(
            context: try model.promptTokens([.system(system), .user(user)]), temperature: temperature,
            maxNewTokens: maxTokens, seed: seed)
        let result = try await engine.generate([request])[0].get()
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        print(String(decoding: try encoder.encode(["tokens": result.tokens]), as: UTF8.self))
    }
}
