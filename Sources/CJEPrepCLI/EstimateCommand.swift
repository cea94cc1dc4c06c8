import ArgumentParser
import CJEPipeline
import Foundation

/// `cje-prep estimate N`: the time, spend, tokens and disk of a run of N prompts, projected from
/// a measured run (or from a short pilot run first).
struct EstimateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "estimate",
        abstract: "Project the time, provider spend, tokens and disk of a run of N prompts from a measured run.",
        discussion:
            "Reads the stage timings of the run in --dir. If --dir holds no run, a pilot of --pilot prompts is run into it first (with --config), so a later `cje-prep run N --dir D` continues from the pilot's work."
    )

    @Argument(help: "Prompts of the run to project.")
    var n: Int

    @Option(help: "A run directory to measure (default: a pilot in a temporary directory).")
    var dir: String?

    @Option(help: "Machines the run is split over (shards); every stage, the oracle too, divides over them.")
    var shards: Int = 8

    @Option(
        help:
            "A YAML config for the pilot (the built-in default when absent); its providers' rate limits bound the projection."
    )
    var config: String?

    @Option(
        help:
            "Prompts in the pilot run, when there is no measured run (16: with three policies, more answers than the engine's 32 sequences, so that it measures the engine full)."
    )
    var pilot: Int = 16

    @Flag(help: "Print one JSON object instead of a table.")
    var json = false

    func validate() throws {
        if n < 1 { throw ValidationError("N must be at least 1") }
        if shards < 1 { throw ValidationError("--shards must be at least 1") }
        if pilot < 1 { throw ValidationError("--pilot must be at least 1") }
    }

    func run() async throws {
        let path =
            dir
            ?? FileManager.default.temporaryDirectory.appendingPathComponent("cje-prep-pilot-\(UUID().uuidString)").path
        let run = RunDirectory(root: URL(fileURLWithPath: path))
        var measured =
            FileManager.default.fileExists(atPath: run.manifest.path) ? try Manifest.read(from: run.manifest) : nil
        if measured?.stages.isEmpty ?? true {
            FileHandle.standardError.write(
                Data(
                    "estimate: no measured run in \(path): running a pilot of \(pilot) prompts there first (\(config ?? "built-in default config"))\n"
                        .utf8))
            var arguments = ["--dir", path]
            if let config { arguments += ["--config", config] }
            // The pilot's console lines go to stderr, so that stdout holds the estimate alone.
            fflush(nil)
            let console = dup(STDOUT_FILENO)
            dup2(STDERR_FILENO, STDOUT_FILENO)
            defer {
                fflush(nil)
                dup2(console, STDOUT_FILENO)
                close(console)
            }
            try await Session.run(try RunOptions.parse(arguments).request(n: pilot, through: .validate))
            measured = try Manifest.read(from: run.manifest)
        }
        // The config's providers bound the run by their rate limits (the manifest keeps no limits).
        let limits = try config.map { try PipelineConfig.load(from: URL(fileURLWithPath: $0)).providers } ?? [:]
        let estimate = try RunEstimate(
            manifest: measured ?? Manifest.read(from: run.manifest), dir: path,
            diskBytes: RunEstimate.diskBytes(under: run.root), n: n, machines: shards,
            cpus: CPUAllotment.current()?.cpus ?? ProcessInfo.processInfo.activeProcessorCount, limits: limits)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
            print(String(decoding: try encoder.encode(estimate), as: UTF8.self))
            return
        }
        print(estimate.table)
    }
}
