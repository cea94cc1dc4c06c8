// Runs the pipeline from Swift through the library entry point, as `cje-prep run 3 --dir DIR`
// does: `swift run run-from-swift DIR` (the demo model bootstrapped; see the README).
import CJEPipeline
import CJEPrepKit
import Foundation

func run(into directory: URL) async throws {
    var config = PipelineConfig.default
    config.n = 3
    // Checks the config, fetches and loads the models, locks the directory, opens the log.
    let session = try await RunSession.open(
        RunRequest(directory: directory, config: config), models: LlamaModels.loader)
    defer { session.close() }
    for report in try await session.run() {
        print("\(report.stage): \(report.succeeded) of \(report.total) items")
    }
    print("data set: \(session.run.cjeDataset.path)")
}

try await run(into: URL(fileURLWithPath: CommandLine.arguments.dropFirst().first ?? "./data-run-swift"))
