/// A line of `all_responses.jsonl`: one prompt with every policy's response.
public struct ResponsesRecord: Codable, Sendable, Hashable {
    public var promptId: String
    public var prompt: String
    public var metadata: PromptRecord.Metadata
    public var responses: [String: ResponseRecord]

    enum CodingKeys: String, CodingKey {
        case prompt, metadata, responses
        case promptId = "prompt_id"
    }
}
