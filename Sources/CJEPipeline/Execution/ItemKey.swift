/// The identity of one work item: one draw of one policy's part of one prompt. Every journal,
/// output join and oracle slice names items by it (on disk as the flat fields `prompt_id`,
/// `policy` and, for a draw after the first, `draw`).
public struct ItemKey: Hashable, Sendable, CustomStringConvertible {
    public var promptId: String
    public var policy: String
    /// 0 for the first draw (the logged response of the logging policy), 1..k-1 for the others.
    public var draw: Int

    public init(promptId: String, policy: String, draw: Int = 0) {
        self.promptId = promptId
        self.policy = policy
        self.draw = draw
    }

    /// `prompt_id/policy` (and `/draw d` after the first), for messages.
    public var description: String { "\(promptId)/\(policy)" + (draw > 0 ? "/draw \(draw)" : "") }

    /// The item within its policy's stream that seeds and ranks it: the prompt id for the first
    /// draw (as before draws existed), `prompt_id#d` for draw d.
    public var drawItem: String { draw > 0 ? "\(promptId)#\(draw)" : promptId }
}
