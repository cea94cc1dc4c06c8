/// One sampled prompt, as written to `data/arena_prompts_10k.jsonl`.
public struct PromptRecord: Codable, Sendable, Hashable {
    /// Where a prompt came from.
    public struct Metadata: Codable, Sendable, Hashable {
        public var language: String?
        /// 0-based row of the source file (JSON array index or JSONL line among non-blank lines).
        public var sourceRow: Int
        /// The source file's name, or "builtin".
        public var source: String
        /// Arena's `question_id`, when the row had one.
        public var questionId: String?

        enum CodingKeys: String, CodingKey {
            case language, source
            case sourceRow = "source_row"
            case questionId = "question_id"
        }
    }

    public var promptId: String
    public var prompt: String
    public var metadata: Metadata

    enum CodingKeys: String, CodingKey {
        case prompt, metadata
        case promptId = "prompt_id"
    }
}
