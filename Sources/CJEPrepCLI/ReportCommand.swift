import ArgumentParser
import CJEPipeline
import Foundation

/// `cje-prep report`: the run's report page.
struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract:
            "Write <dir>/report/index.html: one self-contained page with the run's weights, judge, oracle, estimates and stages (run and merge write it too)."
    )

    @Option(help: "The run directory.")
    var dir = "./data-run"

    func run() throws {
        print("report: \(try RunSession.report(RunDirectory(root: URL(fileURLWithPath: dir))).path)")
    }
}
