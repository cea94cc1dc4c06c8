public import CJEInference
public import Foundation

/// One shard as a merge found it, kept in the merged run's manifest.
public struct ShardRecord: Codable, Sendable {
    public var shard: Shard
    public var n: Int
    public var node: NodeInfo?
    public var completed: Date
    /// The shard's stage reports (its share of the work, its timings).
    public var stages: [String: StageReport]
    /// What the shard's providers did and cost.
    public var providers: [String: ProviderUsage]?

    public init(
        shard: Shard, n: Int, node: NodeInfo?, completed: Date, stages: [String: StageReport],
        providers: [String: ProviderUsage]?
    ) {
        self.shard = shard
        self.n = n
        self.node = node
        self.completed = completed
        self.stages = stages
        self.providers = providers
    }
}
