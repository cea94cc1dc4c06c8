import ArgumentParser
import CJEPipeline
import Foundation

/// `cje-prep generate` and friends: run the pipeline up to and including one stage. Earlier
/// stages run too where their work is not done yet (each needs the one before); done work is
/// never redone.
struct StageCommand<S: StageName>: AsyncParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(
            commandName: S.stage.rawValue,
            abstract: "Run the \(S.stage.rawValue) stage (and any earlier stage not yet done), resuming.")
    }

    @Argument(help: "Prompts to sample (default: the config's n).")
    var n: Int?

    @OptionGroup var options: RunOptions

    func run() async throws {
        try await Session.run(try options.request(n: n, through: S.stage))
    }
}

protocol StageName { static var stage: RunStage { get } }
enum PromptsStageName: StageName { static let stage = RunStage.prompts }
enum GenerateStageName: StageName { static let stage = RunStage.generate }
enum LogprobsStageName: StageName { static let stage = RunStage.logprobs }
enum JudgeStageName: StageName { static let stage = RunStage.judge }
enum OracleStageName: StageName { static let stage = RunStage.oracle }
enum ExportStageName: StageName { static let stage = RunStage.export }
enum ValidateStageName: StageName { static let stage = RunStage.validate }
