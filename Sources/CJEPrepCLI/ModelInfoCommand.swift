import ArgumentParser
import CJEInference
import CJELlama
import Foundation

struct ModelInfoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "model-info",
        abstract:
            "What a GGUF model will get, as JSON: architecture, tensor types, memory, chat template (own or named), end-of-turn tokens, whether it is batch-invariant here, a rendered example conversation.",
        discussion:
            "--check also runs the engine's determinism contract on it (generation with 1 to 9 and 32 sequences, sampled against teacher-forced log probs, alone against in a batch, clone weights, continuations): seconds for a small model, minutes for a 3B one."
    )

    @OptionGroup var modelOptions: ModelOptions

    @Option(help: "The day date-reading templates render (YYYY-MM-DD; default today, UTC).")
    var date: String?

    @Flag(help: "Also run the determinism contract on the model and exit 1 if any part fails.")
    var check = false

    struct Output: Encodable {
        var info: ModelInfo
        var batchInvariant: Bool
        var example: String?
        var exampleError: String?
        var check: DeterminismCheck?
    }

    func run() async throws {
        guard let chatDate = date.map({ ChatDate(day: $0) }) ?? ChatDate.today else {
            throw ValidationError("--date must be a day YYYY-MM-DD (got '\(date ?? "")')")
        }
        let model = try modelOptions.load()
        var output = Output(info: model.info, batchInvariant: model.info.notBatchInvariant == nil)
        do {
            output.example = try model.renderPrompt(
                [.system("You are a helpful assistant."), .user("What is the capital of France?")], date: chatDate)
        } catch {
            output.exampleError = error.localizedDescription
        }
        if check {
            guard output.batchInvariant else {
                throw ValidationError(
                    "not checked: \(LlamaError.modelNotBatchInvariant(path: model.info.path, reason: model.info.notBatchInvariant ?? "").localizedDescription)"
                )
            }
            output.check = try DeterminismCheck.run(model: model, threads: modelOptions.threads ?? 2)
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        print(String(decoding: try encoder.encode(output), as: UTF8.self))
        if let result = output.check, !result.passed { throw ExitCode(1) }
    }
}
