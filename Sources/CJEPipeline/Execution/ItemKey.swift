/// The identity of one work item: one policy's part of one prompt. Every journal, output join
/// and oracle slice names items by it (on disk as the flat fields `prompt_id` and `policy`).
public struct ItemKey: Hashable, Sendable, CustomStringConvertible {
    public var promptId: String
    public var policy: String

    public init(promptId: String, policy: String) {
        self.promptId = promptId
        self.policy = policy
    }

    /// `prompt_id/policy`, for messages.
    public var description: String { "\(promptId)/\(policy)" }
}
