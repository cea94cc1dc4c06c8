/// One (prompt, response) pair for a rubric to score.
public struct RubricItem: Sendable, Hashable {
    public var prompt: String
    public var response: String

    public init(prompt: String, response: String) {
        self.prompt = prompt
        self.response = response
    }
}
