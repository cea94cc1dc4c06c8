/// A line of `all_responses.jsonl`: one prompt with every policy's response (its first draw),
/// and with `draws` > 1 the policies' further draws.
public struct ResponsesRecord: Codable, Sendable, Hashable {
    public var promptId: String
    public var prompt: String
    public var metadata: PromptRecord.Metadata
    public var responses: [String: ResponseRecord]
    /// Draws 1..k-1 of each policy with more than one, in order (absent when every policy has one).
    public var draws: [String: [ResponseRecord]]?

    public init(
        promptId: String, prompt: String, metadata: PromptRecord.Metadata, responses: [String: ResponseRecord],
        draws: [String: [ResponseRecord]]? = nil
    ) {
        self.promptId = promptId
        self.prompt = prompt
        self.metadata = metadata
        self.responses = responses
        self.draws = draws
    }

    enum CodingKeys: String, CodingKey {
        case prompt, metadata, responses, draws
        case promptId = "prompt_id"
    }

    /// Every draw of `policy` that has a record, draw 0 first.
    public func allDraws(of policy: String) -> [(draw: Int, response: ResponseRecord)] {
        let first = responses[policy].map { [(draw: 0, response: $0)] } ?? []
        return first + (draws?[policy] ?? []).enumerated().map { (draw: $0.offset + 1, response: $0.element) }
    }
}
