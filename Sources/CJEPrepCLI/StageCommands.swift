import ArgumentParser
import CJEPipeline
import CJEProviders
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
        try await RunCommand.execute(n: n, options: options, through: S.stage)
    }
}

protocol StageName { static var stage: Pipeline.Stage { get } }
enum PromptsStageName: StageName { static let stage = Pipeline.Stage.prompts }
enum GenerateStageName: StageName { static let stage = Pipeline.Stage.generate }
enum LogprobsStageName: StageName { static let stage = Pipeline.Stage.logprobs }
enum JudgeStageName: StageName { static let stage = Pipeline.Stage.judge }
enum OracleStageName: StageName { static let stage = Pipeline.Stage.oracle }
enum ExportStageName: StageName { static let stage = Pipeline.Stage.export }
enum ValidateStageName: StageName { static let stage = Pipeline.Stage.validate }

/// Per stage: items done, failed, and where the outputs are.
struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "Show what a run directory holds: per stage, done / total and failures.")

    @Option(help: "The run directory.")
    var dir = "./data-run"

    func run() throws {
        let run = RunDirectory(root: URL(fileURLWithPath: dir))
        guard FileManager.default.fileExists(atPath: run.manifest.path) else {
            throw ValidationError("\(dir) holds no run (no manifest.json); start one with `cje-prep run`")
        }
        let manifest = try Manifest.read(from: run.manifest)
        print("run \(run.root.path): n = \(manifest.n), updated \(manifest.updated)")
        var rows: [[String]] = []
        for (name, report) in manifest.stages.sorted(by: { $0.key < $1.key }) {
            rows.append([
                name, "\(report.succeeded)/\(report.total)", "\(report.failed)",
                String(format: "%.1f s", report.seconds),
            ])
        }
        print(TextTable.render(header: ["stage", "done", "failed", "last run"], rows: rows))
        for (name, usage) in (manifest.providers ?? [:]).sorted(by: { $0.key < $1.key }) {
            print("provider \(name): \(usage.summary)")
        }
        for (label, url) in [
            ("prompts", run.prompts), ("responses", run.responses), ("logprobs", run.logprobs),
            ("judge", run.scored("p0", "deterministic")), ("oracle", run.oracleLabels("calibration")),
            ("cje export", run.cjeDataset), ("validation", run.datasetInfo),
        ] where FileManager.default.fileExists(atPath: url.path) {
            print("\(label): \(url.path)")
        }
    }
}
