import Foundation

extension Pipeline {
    /// Combines the shards of a split run (`shards/K-of-M` under `run`) into the data set the
    /// unsplit run would have made: every shard must have finished with one N and this
    /// pipeline's fingerprint (otherwise nothing is written and each problem is named); their
    /// journals are gathered under `state/` and taken as they are (no item is worked again),
    /// the outputs are written in the unsharded order, and the stages that read every row run
    /// here: the export and validation. The shards labelled their own rows (the oracle's
    /// journals are taken too); only a label no shard's slice drew (the `original` slice moves
    /// when responses failed in other shards) is worked here. Merging again rebuilds the same files.
    package func merge() async throws -> [StageReport] {
        let shards = run.shards
        guard let count = shards.first?.count else {
            throw PipelineError.shardsNotMergeable(
                path: run.root.path,
                problems: [
                    "it holds no shards (\(run.shardsFolder.path) is empty or missing); run `cje-prep run N --shard K/M --dir \(run.root.path)` for K = 0 ... M-1 first"
                ])
        }
        var problems: [String] = []
        let counts = Set(shards.map(\.count))
        if counts.count > 1 {
            problems.append(
                "shards of different splits are present (\(counts.sorted().map { "\($0) shards" }.joined(separator: ", "))): keep one split's folders under \(run.shardsFolder.path)"
            )
        }
        var records: [ShardRecord] = []
        var sizes: [Int: [Shard]] = [:]
        for index in 0..<count {
            let shard = try Shard(index: index, count: count)
            let folder = run.shard(shard)
            guard FileManager.default.fileExists(atPath: folder.manifest.path) else {
                problems.append("shard \(shard) has not started (no \(folder.manifest.path))")
                continue
            }
            let manifest = try Manifest.read(from: folder.manifest)
            if manifest.fingerprint != fingerprint {
                let changes = fingerprint.differences(from: manifest.fingerprint)
                var problem = "shard \(shard) was made with other settings (\(changes.joined(separator: "; ")))"
                if manifest.fingerprint.engine != fingerprint.engine {
                    problem +=
                        "; every node must use one llama.cpp build: bootstrap it with the same CJE_LLAMA_PROFILE everywhere (portable is the default) or share one LLAMA_PREFIX"
                }
                problems.append(problem)
                continue
            }
            guard let outcome = manifest.outcome else {
                problems.append(
                    "shard \(shard) has not finished (it is running, or was stopped): run it again to resume")
                continue
            }
            guard outcome.completed else {
                problems.append("shard \(shard) failed: \(outcome.error ?? "unknown error"); run it again to resume")
                continue
            }
            guard (RunStage(rawValue: outcome.through) ?? .prompts) >= RunStage.lastInShard else {
                problems.append(
                    "shard \(shard) ran only through \(outcome.through); run it again without --through to finish it")
                continue
            }
            sizes[outcome.n, default: []].append(shard)
            records.append(
                ShardRecord(
                    shard: shard, n: outcome.n, node: manifest.node, completed: outcome.at, stages: manifest.stages,
                    providers: manifest.providers))
        }
        if sizes.count > 1 {
            let described = sizes.sorted { $0.key < $1.key }.map { n, shards in
                "n = \(n): shard\(shards.count == 1 ? "" : "s") \(shards.map(\.description).joined(separator: ", "))"
            }
            problems.append(
                "the shards ran with different N (\(described.joined(separator: "; "))); run them all with the largest N"
            )
        }
        if !problems.isEmpty { throw PipelineError.shardsNotMergeable(path: run.root.path, problems: problems) }

        let n = records[0].n
        let cpus = Set(records.compactMap { $0.node?.cpuFeatures })
        if cpus.count > 1 {
            say(
                "merge: warning: the shards ran on CPUs with different instruction sets (\(records.map { "\($0.shard): \($0.node?.cpu ?? "?")" }.joined(separator: "; "))). One portable build gives the same bits on all of them; a native build does not, and validate's audit would show it."
            )
        }
        // Every shard's journals, gathered: the items are disjoint, and the outputs are written
        // in the sample's order whatever the journals' order.
        var frozen = Set<String>()
        for name in Set(records.flatMap { run.shard($0.shard).journalNames }).sorted() {
            var data = Data()
            for record in records {
                let journal = run.shard(record.shard).journal(name)
                guard FileManager.default.fileExists(atPath: journal.path) else { continue }
                for line in try JSONLines.lines(of: journal, unterminated: .drop) {
                    data.append(line.bytes)
                    data.append(UInt8(ascii: "\n"))
                }
            }
            try AtomicFile.write(data, to: run.journal(name))
            frozen.insert(name)
        }
        var merged = config
        merged.n = n
        let manifest = try ManifestStore(run: run, fingerprint: fingerprint, n: n)
        manifest.update { $0.shards = records }
        try manifest.save()
        say("merge: \(count) shards of n = \(n) (\(frozen.sorted().joined(separator: ", ")) taken from their journals)")

        var settings = settings
        settings.layout = .merge(frozen: frozen)
        let merging = Pipeline(
            config: merged, run: run, fingerprint: fingerprint, engine: engine, say: say, debug: debug,
            settings: settings)
        return try await merging.execute(through: .validate)
    }
}
