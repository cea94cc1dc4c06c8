import ArgumentParser
import CJEInference
import CJELlama
import Foundation

/// A few fixed items teacher-forced and one answer generated, printed as the exact bits of
/// every log prob: run on two machines (or under an emulated CPU) and compare the output to see
/// whether a build gives the same numbers there (Tests/Integration/portable-check.sh does).
struct ProbeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "probe", abstract: "Print the bits of a few log probs, to compare machines.", shouldDisplay: false)

    @OptionGroup var modelOptions: ModelOptions

    static let items = [
        ("What is the capital of France?", "The capital of France is Paris."),
        ("Give me three tips for sleeping better.", "Keep a regular schedule, avoid screens late, and keep it dark."),
        (
            "Explain recursion to a ten-year-old.",
            "Recursion is when something is defined using a smaller copy of itself."
        ),
    ]

    func run() async throws {
        let model = try modelOptions.load()
        var options = LlamaEngineOptions(maxSequences: 2, sequenceContext: 512)
        if let threads = modelOptions.threads { options.threads = threads }
        let engine = try LlamaEngine(model: model, options: options)
        let requests = try Self.items.map { prompt, answer in
            ScoreRequest(
                context: try model.promptTokens([.system("You are a helpful assistant."), .user(prompt)]),
                response: try model.tokenize(response: answer), appendEndOfTurn: true, temperatures: [0.5, 1.0])
        }
        var lines: [String] = ["build \(LlamaEngine.buildIdentity)"]
        for (k, result) in engine.scoreNow(requests).enumerated() {
            let scored = try result.get().scored
            lines.append(
                "item \(k): "
                    + scored.map { "T=\($0.temperature) \(String($0.total.bitPattern, radix: 16))" }.joined(
                        separator: " "))
        }
        let generated = try engine.generateNow([
            GenerationRequest(context: requests[0].context, temperature: 0.5, maxNewTokens: 16, seed: 7)
        ])[0].get()
        lines.append(
            "generated \(generated.tokens.map(String.init).joined(separator: ",")) sampled \(generated.sampledLogProb.map { String($0.bitPattern, radix: 16) } ?? "none")"
        )
        print(lines.joined(separator: "\n"))
    }
}
