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

/// Per stage: items done, failed, and where the outputs are; for a split run, each shard.
struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show what a run directory holds: per stage (and per shard), done / total and failures.")

    @Option(help: "The run directory.")
    var dir = "./data-run"

    func run() throws {
        let run = RunDirectory(root: URL(fileURLWithPath: dir))
        let shards = run.shards
        let hasRun = FileManager.default.fileExists(atPath: run.manifest.path)
        guard hasRun || !shards.isEmpty else {
            throw ValidationError("\(dir) holds no run (no manifest.json, no shards); start one with `cje-prep run`")
        }
        var merged: [ShardRecord]?
        if hasRun {
            let manifest = try Manifest.read(from: run.manifest)
            merged = manifest.shards
            let kind = merged.map { "merged from \($0.count) shards" } ?? "run"
            print("\(kind) \(run.root.path): n = \(manifest.n), updated \(manifest.updated)")
            if let holder = RunLock.holder(of: run.root) { print("in use now by \(holder)") }
            print(Self.stageTable(manifest.stages))
            for (name, usage) in manifest.providersOverall.sorted(by: { $0.key < $1.key }) {
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
        if let count = shards.first?.count { try Self.printShards(run, count: count, merged: merged) }
    }

    static func stageTable(_ stages: [String: StageReport]) -> String {
        TextTable.render(
            header: ["stage", "done", "failed", "last run"],
            rows: Pipeline.inPipelineOrder(stages).map { name, report in
                [
                    name, "\(report.succeeded)/\(report.total)", "\(report.failed)",
                    String(format: "%.1f s", report.seconds),
                ]
            })
    }

    /// One row per shard: its state, its stages, its machine, and whether the merge has it.
    static func printShards(_ run: RunDirectory, count: Int, merged: [ShardRecord]?) throws {
        var rows: [[String]] = []
        var stale: [String] = []
        for index in 0..<count {
            let shard = try Shard(index: index, count: count)
            let folder = run.shard(shard)
            guard FileManager.default.fileExists(atPath: folder.manifest.path) else {
                rows.append([shard.description, "not started", "", "", ""])
                continue
            }
            let manifest = try Manifest.read(from: folder.manifest)
            let state: String
            let holder = RunLock.holder(of: folder.root)
            switch manifest.outcome {
            case _ where holder != nil: state = "running (pid \(holder!.pid) on \(holder!.host))"
            case nil: state = "stopped mid-way"
            case let outcome? where outcome.completed: state = "finished"
            case let outcome?: state = "failed: \(outcome.error ?? "?")"
            }
            var stages = ["generate", "logprobs", "judge"].compactMap { name in
                manifest.stages[name].map { "\(name) \($0.succeeded)/\($0.total)" }
            }
            if manifest.outcome == nil,
                let next = ["generate", "logprobs", "judge"].first(where: { manifest.stages[$0] == nil })
            {
                let lines = ((try? String(contentsOf: folder.journal(next), encoding: .utf8)) ?? "").split(
                    separator: "\n")
                stages.append("\(next) \(lines.count) journaled")
            }
            if let record = merged?.first(where: { $0.shard == shard }), let at = manifest.outcome?.at,
                at > record.completed
            {
                stale.append(shard.description)
            }
            rows.append([
                shard.description, state, "n = \(manifest.outcome?.n ?? manifest.n)", stages.joined(separator: ", "),
                manifest.node?.host ?? "",
            ])
        }
        print("shards of \(run.root.path):")
        print(TextTable.render(header: ["shard", "state", "n", "stages", "host"], rows: rows))
        if !stale.isEmpty {
            print("shard(s) \(stale.joined(separator: ", ")) ran again after the merge: run `cje-prep merge` again")
        }
    }
}
