import ArgumentParser
import CJEPipeline
import Foundation

/// Per stage: items done, failed, and where the outputs are; for a split run, each shard.
struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show what a run directory holds: per stage (and per shard), done / total and failures.")

    @Option(help: "The run directory.")
    var dir = "./data-run"

    func run() throws {
        print(try RunStatus.text(of: RunDirectory(root: URL(fileURLWithPath: dir))))
    }
}
