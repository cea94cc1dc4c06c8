public import ArgumentParser
import CJEPipeline

extension RunStage: ExpressibleByArgument {}

struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run every stage into the run directory, resuming whatever is already done.")

    @Argument(help: "Prompts to sample (default: the config's n).")
    var n: Int?

    @OptionGroup var options: RunOptions

    @Option(help: "Stop after this stage.")
    var through: RunStage = .validate

    func validate() throws {
        if let n, n < 1 { throw ValidationError("N must be at least 1") }
    }

    func run() async throws {
        try await Session.run(try options.request(n: n, through: through))
    }
}
