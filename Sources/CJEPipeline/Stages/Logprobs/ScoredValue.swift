/// A journaled teacher-forcing result for one (prompt, policy).
public struct ScoredValue: Codable, Sendable, Hashable {
    public var logprob: Double?
    public var nTokens: Int?
    public var error: String?

    enum CodingKeys: String, CodingKey {
        case logprob, error
        case nTokens = "n_tokens"
    }
}
