public import Foundation

/// The files of one run, under one directory (names kept from the original pipeline).
public struct RunDirectory: Sendable {
    public let root: URL

    public init(root: URL) {
        self.root = root
    }

    public var manifest: URL { root.appendingPathComponent("manifest.json") }
    public var logs: URL { root.appendingPathComponent("logs") }

    public var prompts: URL { root.appendingPathComponent("data/arena_prompts_10k.jsonl") }
    public var responses: URL { root.appendingPathComponent("data/all_responses.jsonl") }
    public var logprobs: URL { root.appendingPathComponent("data/logprobs.jsonl") }
    public var phase2: URL { root.appendingPathComponent("phase2") }

    /// `phase2/{p0,targets}_scored_{deterministic,uncertainty}.jsonl`.
    public func scored(_ who: String, _ method: String) -> URL {
        phase2.appendingPathComponent("\(who)_scored_\(method).jsonl")
    }

    /// `data/oracle_labels_{calibration,validation}.jsonl`: every row of the task's population.
    public func oracleLabels(_ task: String) -> URL { root.appendingPathComponent("data/oracle_labels_\(task).jsonl") }

    /// The labelled rows only.
    public func oracleDetailed(_ task: String) -> URL {
        phase2.appendingPathComponent("labeling/oracle_labels_\(task)_detailed.jsonl")
    }

    /// CJE's logged data set, `cje/cje_dataset.jsonl`.
    public var cjeDataset: URL { root.appendingPathComponent("cje/cje_dataset.jsonl") }

    /// CJE's fresh draws of one target policy.
    public func freshDraws(_ policy: String) -> URL {
        root.appendingPathComponent("cje/responses/\(policy)_responses.jsonl")
    }

    public var datasetInfo: URL { root.appendingPathComponent("data/dataset_info.json") }

    /// The journal of a stage's finished items.
    public func journal(_ stage: String) -> URL {
        root.appendingPathComponent("state/\(stage).journal.jsonl")
    }

    /// Provider responses by request hash: a re-run never pays twice for the same call.
    public var providerCache: URL { root.appendingPathComponent("cache/providers") }
}
