import ArgumentParser
import CJELlama
import CJEPrepKit
import Foundation

@main
struct CJEPrep: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cje-prep",
        abstract: "Prepare data sets for Causal Judge Evaluation with a deterministic llama.cpp engine.",
        // Listed in the help; `--version` itself prints `BuildInfo.text` (see `main`).
        version: BuildInfo.version,
        groupedSubcommands: [
            CommandGroup(
                name: "Run a data set",
                subcommands: [
                    RunCommand.self, MergeCommand.self, StatusCommand.self, ReportCommand.self, EstimateCommand.self,
                    PublishCommand.self, InitCommand.self, FetchModelsCommand.self,
                ]),
            CommandGroup(
                name: "Run up to one stage",
                subcommands: [
                    StageCommand<PromptsStageName>.self, StageCommand<GenerateStageName>.self,
                    StageCommand<LogprobsStageName>.self, StageCommand<JudgeStageName>.self,
                    StageCommand<OracleStageName>.self, StageCommand<ExportStageName>.self,
                    StageCommand<ValidateStageName>.self,
                ]),
            CommandGroup(
                name: "Look at a model and the engine",
                subcommands: [
                    ModelInfoCommand.self, DemoCommand.self, BenchCommand.self, GenerateOnceCommand.self,
                    ProbeCommand.self, TemplateRenderCommand.self,
                ]),
        ]
    )

    static func main() async {
        // Under Slurm or Kubernetes standard output is a file or a pipe: progress lines must
        // reach it as they are printed, not when a block buffer fills or the process ends.
        // (`stdout` is a C global Swift 6 will not read; the symbol is looked up instead.)
        if let symbol = dlsym(nil, "stdout"),
            let stream = symbol.assumingMemoryBound(to: UnsafeMutablePointer<FILE>?.self).pointee
        {
            setvbuf(stream, nil, _IOLBF, 0)
        }
        // The whole build description, read when asked for (it names the loaded libllama).
        if Array(CommandLine.arguments.dropFirst()) == ["--version"] {
            print(BuildInfo.text)
            return
        }
        do {
            var command = try parseAsRoot()
            if var command = command as? any AsyncParsableCommand {
                try await command.run()
            } else {
                try command.run()
            }
        } catch {
            exit(withError: error)
        }
    }
}

/// Options shared by every command that loads a local model.
struct ModelOptions: ParsableArguments {
    @Option(name: .long, help: "Path of a GGUF model file.")
    var model: String

    @Option(name: .long, help: "CPU threads for llama.cpp (default: all cores).")
    var threads: Int?

    @Option(
        name: .customLong("chat-template"),
        help: "A chat template instead of the model's own: a built-in name (e.g. chatml, gemma) or Jinja source.")
    var chatTemplate: String?

    /// The model, with the template given.
    func load() throws -> LlamaModel {
        try LlamaModel(path: model, chatTemplate: chatTemplate)
    }

    func validate() throws {
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
    }
}
