import Foundation

/// What a run directory holds: per stage (and per shard) done / total and failures, the
/// providers' usage and where the outputs are.
public enum RunStatus {
    /// What `run` holds, as `cje-prep status` prints it.
    public static func text(of run: RunDirectory) throws -> String {
        var out: [String] = []
        let shards = run.shards
        let hasRun = FileManager.default.fileExists(atPath: run.manifest.path)
        guard hasRun || !shards.isEmpty else {
            throw PipelineError.impossible(
                "\(run.root.path) holds no run (no manifest.json, no shards); start one with `cje-prep run`")
        }
        var merged: [ShardRecord]?
        if hasRun {
            let manifest = try Manifest.read(from: run.manifest)
            merged = manifest.shards
            let kind = merged.map { "merged from \($0.count) shards" } ?? "run"
            out.append("\(kind) \(run.root.path): n = \(manifest.n), updated \(manifest.updated)")
            if let holder = RunLock.holder(of: run.root) { out.append("in use now by \(holder)") }
            out.append(Self.stageTable(manifest.stages))
            for (name, usage) in manifest.providersOverall.sorted(by: { $0.key < $1.key }) {
                out.append("provider \(name): \(usage.summary)")
            }
            for (label, url) in [
                ("prompts", run.prompts), ("responses", run.responses), ("logprobs", run.logprobs),
                ("judge", run.scored(.p0, .deterministic)), ("oracle", run.oracleLabels(.calibration)),
                ("cje export", run.cjeDataset), ("validation", run.datasetInfo),
            ] where FileManager.default.fileExists(atPath: url.path) {
                out.append("\(label): \(url.path)")
            }
        }
        if let count = shards.first?.count { out += try shardLines(run, count: count, merged: merged) }
        return out.joined(separator: "\n")
    }

    public static func stageTable(_ stages: [String: StageReport]) -> String {
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
    static func shardLines(_ run: RunDirectory, count: Int, merged: [ShardRecord]?) throws -> [String] {
        var out: [String] = []
        var rows: [[String]] = []
        var stale: [String] = []
        let journaled = RunStage.allCases.filter { $0 > .prompts && $0 <= RunStage.lastInShard }.map(
            \.rawValue)
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
            case _ where holder != nil: state = "running (pid \(holder?.pid ?? 0) on \(holder?.host ?? "?"))"
            case nil: state = "stopped mid-way"
            case let outcome? where outcome.completed: state = "finished"
            case let outcome?: state = "failed: \(outcome.error ?? "?")"
            }
            var stages = journaled.compactMap { name in
                manifest.stages[name].map { "\(name) \($0.succeeded)/\($0.total)" }
            }
            if manifest.outcome == nil,
                let next = journaled.first(where: { manifest.stages[$0] == nil })
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
        out.append("shards of \(run.root.path):")
        out.append(TextTable.render(header: ["shard", "state", "n", "stages", "host"], rows: rows))
        if !stale.isEmpty {
            out.append(
                "shard(s) \(stale.joined(separator: ", ")) ran again after the merge: run `cje-prep merge` again")
        }
        return out
    }
}
