import ArgumentParser
import CJELlama
import CJEPrepKit

/// The built-in default: two policies that differ only in their system prompt, each answering a
/// few prompts; every answer is teacher-forced under both, giving importance weights.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Generate and score a few answers under a helpful and an unhelpful policy, and print the weights.")

    @OptionGroup var modelOptions: ModelOptions

    @Option(help: "Sampling temperature of both policies.")
    var temperature: Double = 0.5

    @Option(help: "Most new tokens per answer.")
    var maxTokens: Int = 96

    @Option(help: "Run seed; each answer's seed derives from it, the policy and the prompt.")
    var seed: UInt64 = 42

    func run() async throws {
        let model = try modelOptions.load()
        var options = LlamaEngineOptions()
        if let threads = modelOptions.threads { options.threads = threads }
        let tour = EngineTour(temperature: temperature, maxTokens: maxTokens, seed: seed)
        print(try await tour.run(model: model, engine: try LlamaEngine(model: model, options: options)))
    }
}
