public import Foundation

/// How the last invocation on a run directory ended, as the manifest keeps it: a shard counts
/// as finished for a merge only when its last invocation completed with the merge's N.
public struct RunOutcome: Codable, Sendable, Hashable {
    public var n: Int
    /// The last stage the invocation was asked to run.
    public var through: String
    public var completed: Bool
    /// Why it stopped, when it did not complete.
    public var error: String?
    public var at: Date

    public init(n: Int, through: String, completed: Bool, error: String?, at: Date = Date()) {
        self.n = n
        self.through = through
        self.completed = completed
        self.error = error
        self.at = at
    }
}
