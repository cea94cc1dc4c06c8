import Foundation

/// A provider that teacher-forces over token ids (a vLLM server): the ids of its own chat
/// template and tokenizer, and the log prob of every token of a token-id prompt at
/// temperature 1. The logprobs stage builds the prompt from these ids itself (prefix, response,
/// end of turn), so no text is re-tokenized across the boundary; `CJEProviders.OpenAIClient`
/// is the real one.
public protocol TeacherForcingProvider: ChatProvider {
    /// The ids of `messages` rendered by the server's chat template, with the assistant header
    /// appended when `addGenerationPrompt`.
    func templateTokens(_ messages: [ChatMessage], addGenerationPrompt: Bool) async throws -> [TokenID]

    /// The ids of `text` on its own, no special tokens added.
    func textTokens(_ text: String) async throws -> [TokenID]

    /// The text of `ids` in the server's vocabulary.
    func detokenize(_ ids: [TokenID]) async throws -> String

    /// The log prob of every token of `ids` given the ones before it (the first has none), and
    /// the ids the server says it scored, with `alternatives` more of the most likely tokens at
    /// each position. `temperature` is sent as the request's (nil: not sent; the server's T = 1);
    /// a server applies it to prompt log probs only if `TemperatureProbe` shows it does.
    /// `cacheTag` keeps equal requests made for different purposes apart in the response cache
    /// (a clone's value is its own measurement).
    func promptLogprobs(_ ids: [TokenID], temperature: Double?, alternatives: Int, cacheTag: String) async throws
        -> PromptLogprobs
}

/// What an endpoint returned for a token-id prompt: the ids it scored and, per position, the
/// log prob of that position's token (nil where it gave none, always at position 0).
public struct PromptLogprobs: Sendable, Hashable {
    public var tokenIds: [TokenID]?
    public var logprobs: [Double?]
    /// Per position, the log prob of every token the server listed there (the scored one and
    /// the most likely others).
    public var listed: [[TokenID: Double]]
    /// The model id the endpoint answered with.
    public var model: String?

    public init(tokenIds: [TokenID]?, logprobs: [Double?], listed: [[TokenID: Double]] = [], model: String? = nil) {
        self.tokenIds = tokenIds
        self.logprobs = logprobs
        self.listed = listed
        self.model = model
    }
}
