import CJEInference
public import Foundation

/// The files of one run, under one directory (names kept from the original pipeline).
public struct RunDirectory: Sendable {
    public let root: URL

    public init(root: URL) {
        self.root = root
    }

    public var manifest: URL { root.appendingPathComponent("manifest.json") }
    public var logs: URL { root.appendingPathComponent("logs") }
    /// The day date-reading chat templates render for this run and all its shards (`ChatDate`).
    public var chatDate: URL { root.appendingPathComponent("chat-date") }

    public var prompts: URL { root.appendingPathComponent("data/arena_prompts_10k.jsonl") }
    public var responses: URL { root.appendingPathComponent("data/all_responses.jsonl") }
    public var logprobs: URL { root.appendingPathComponent("data/logprobs.jsonl") }
    public var phase2: URL { root.appendingPathComponent("phase2") }

    /// Whose judge scores a file holds: the logging policy's responses or the targets' (their
    /// first draws), or every policy's further draws (`draws` > 1).
    public enum ScoredGroup: String, Sendable, CaseIterable { case p0, targets, draws }

    /// Which of the judge's two scores a file holds.
    public enum JudgeScore: String, Sendable, CaseIterable { case deterministic, uncertainty }

    /// `phase2/{p0,targets}_scored_{deterministic,uncertainty}.jsonl`.
    public func scored(_ who: ScoredGroup, _ score: JudgeScore) -> URL {
        phase2.appendingPathComponent("\(who.rawValue)_scored_\(score.rawValue).jsonl")
    }

    /// `data/oracle_labels_{calibration,validation}.jsonl`: the labelled slice of the task's
    /// population (as in the original experiment's files).
    public func oracleLabels(_ task: OracleTask.Kind) -> URL {
        root.appendingPathComponent("data/oracle_labels_\(task.rawValue).jsonl")
    }

    /// The labelled rows, under `phase2/labeling/` (the original pipeline's detailed copy).
    public func oracleDetailed(_ task: OracleTask.Kind) -> URL {
        phase2.appendingPathComponent("labeling/oracle_labels_\(task.rawValue)_detailed.jsonl")
    }

    /// Every row of the task's population, labelled or not (`selected` says which were drawn).
    public func oraclePopulation(_ task: OracleTask.Kind) -> URL {
        phase2.appendingPathComponent("labeling/oracle_population_\(task.rawValue).jsonl")
    }

    /// CJE's logged data set, `cje/cje_dataset.jsonl`.
    public var cjeDataset: URL { root.appendingPathComponent("cje/cje_dataset.jsonl") }

    /// CJE's fresh draws of one target policy.
    public func freshDraws(_ policy: String) -> URL {
        root.appendingPathComponent("cje/responses/\(policy)_responses.jsonl")
    }

    /// A target policy's held-out transport probes (`oracle.probes`), for CJE's transport audit.
    public func probes(_ policy: String) -> URL {
        root.appendingPathComponent("cje/probes/\(policy).jsonl")
    }

    /// How the labels were drawn, with every row's inclusion probability (`LabelSummary`).
    public var labelDesign: URL { root.appendingPathComponent("cje/label_design.json") }

    /// Every sampled row of `policy` (every draw of every prompt), complete or missing, with why
    /// and its inclusion probabilities: `cje/frame/{policy}.jsonl`.
    public func frame(_ policy: String) -> URL { root.appendingPathComponent("cje/frame/\(policy).jsonl") }

    /// The Direct-mode analysis of exactly these files with cje-eval.
    public var analyzeScript: URL { root.appendingPathComponent("cje/analyze.py") }

    public var datasetInfo: URL { root.appendingPathComponent("data/dataset_info.json") }

    /// The journal of a stage's finished items.
    public func journal(_ stage: String) -> URL {
        root.appendingPathComponent("state/\(stage).journal.jsonl")
    }

    /// Provider responses by request hash: a re-run never pays twice for the same call.
    public var providerCache: URL { root.appendingPathComponent("cache/providers") }

    /// Where a sharded run's shards keep their own run directories.
    public var shardsFolder: URL { root.appendingPathComponent("shards") }

    /// A shard's own run directory: `shards/K-of-M`.
    public func shard(_ shard: Shard) -> RunDirectory {
        RunDirectory(root: shardsFolder.appendingPathComponent(shard.name))
    }

    /// The shards that have a directory under `shards/`, in order.
    public var shards: [Shard] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: shardsFolder.path)) ?? []
        return names.compactMap(Shard.init(folderName:)).sorted { ($0.count, $0.index) < ($1.count, $1.index) }
    }

    /// The stages that have a journal under `state/`.
    public var journalNames: [String] {
        let folder = root.appendingPathComponent("state")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        return names.filter { $0.hasSuffix(".journal.jsonl") }.map { String($0.dropLast(".journal.jsonl".count)) }
            .sorted()
    }
}
