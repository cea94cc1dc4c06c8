/// The stages, in order: what `RunRequest.through` names and a stage type declares as its `id`.
public enum RunStage: String, CaseIterable, Sendable, Comparable {
    case prompts, generate, logprobs, judge, oracle, export, validate

    public static func < (a: RunStage, b: RunStage) -> Bool {
        (allCases.firstIndex(of: a) ?? 0) < (allCases.firstIndex(of: b) ?? 0)
    }

    /// The last stage a shard runs: the oracle labels the shard's own rows of the design's
    /// sample (decided from the whole sample's ids and each row's own judge score); the export and
    /// validation, which read every row, run at the merge.
    public static let lastInShard = RunStage.oracle
}

/// How a run directory is used.
public enum RunLayout: Sendable, Hashable {
    /// A whole run in the directory itself.
    case plain
    /// One shard of a split run, in `shards/K-of-M` under the directory: the stages through the
    /// oracle on the shard's slice of the sample.
    case shard(Shard)
    /// The merge of a split run in the directory itself: the shards' journals of these
    /// stages are taken as they are (never worked again); the rest runs on the whole sample.
    case merge(frozen: Set<String>)
}
