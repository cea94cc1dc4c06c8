public import CJEInference
public import Foundation

/// Teacher forcing on a vLLM server, as its protocol has it (`vllm/entrypoints/openai/protocol.py`):
/// `POST /tokenize` renders messages with the server's chat template into ids (or tokenizes a
/// text), `POST /detokenize` turns ids into text, and `POST /v1/completions` with a token-id prompt, `echo` and `prompt_logprobs`
/// returns the log prob of every prompt token at temperature 1 and the ids it scored.
extension OpenAIClient: TeacherForcingProvider {
    public func templateTokens(_ messages: [ChatMessage], addGenerationPrompt: Bool) async throws -> [TokenID] {
        try await tokenize(
            TokenizeRequest(
                model: settings.model, messages: messages.map { ["role": $0.role.rawValue, "content": $0.content] },
                addGenerationPrompt: addGenerationPrompt, addSpecialTokens: false))
    }

    public func textTokens(_ text: String) async throws -> [TokenID] {
        try await tokenize(TokenizeRequest(model: settings.model, prompt: text, addSpecialTokens: false))
    }

    public func detokenize(_ ids: [TokenID]) async throws -> String {
        let body = try Canonical.encode(DetokenizeRequest(model: settings.model, tokens: ids))
        let data = try await call(path: "/detokenize", body: body, estimatedTokens: 0, root: true) {
            _ = try JSONDecoder().decode(DetokenizeResponse.self, from: $0)
        }
        return try JSONDecoder().decode(DetokenizeResponse.self, from: data).prompt
    }

    public func promptLogprobs(_ ids: [TokenID], temperature: Double?, alternatives: Int, cacheTag: String)
        async throws -> PromptLogprobs
    {
        let body = try Canonical.encode(
            PromptLogprobsRequest(
                model: settings.model, prompt: ids, temperature: temperature, alternatives: alternatives))
        let data = try await call(
            path: "/completions", body: body, estimatedTokens: ids.count, cacheTag: cacheTag
        ) { _ = try PromptLogprobsResponse.parse($0) }
        return try PromptLogprobsResponse.parse(data)
    }

    private func tokenize(_ request: TokenizeRequest) async throws -> [TokenID] {
        let body = try Canonical.encode(request)
        let data = try await call(path: "/tokenize", body: body, estimatedTokens: 0, root: true) {
            _ = try JSONDecoder().decode(TokenizeResponse.self, from: $0)
        }
        return try JSONDecoder().decode(TokenizeResponse.self, from: data).tokens
    }
}

/// Sorted keys, no escaped slashes: equal requests have equal bytes (and cache keys).
enum Canonical {
    static func encode<T: Encodable>(_ value: T) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(value)
    }
}

/// vLLM's `TokenizeChatRequest` (messages) or `TokenizeCompletionRequest` (prompt).
struct TokenizeRequest: Encodable {
    var model: String
    var messages: [[String: String]]?
    var prompt: String?
    var addGenerationPrompt: Bool?
    var addSpecialTokens: Bool

    init(model: String, messages: [[String: String]], addGenerationPrompt: Bool, addSpecialTokens: Bool) {
        self.model = model
        self.messages = messages
        self.addGenerationPrompt = addGenerationPrompt
        self.addSpecialTokens = addSpecialTokens
    }

    init(model: String, prompt: String, addSpecialTokens: Bool) {
        self.model = model
        self.prompt = prompt
        self.addSpecialTokens = addSpecialTokens
    }

    enum CodingKeys: String, CodingKey {
        case model, messages, prompt
        case addGenerationPrompt = "add_generation_prompt"
        case addSpecialTokens = "add_special_tokens"
    }
}

/// vLLM's `DetokenizeRequest` and `DetokenizeResponse`.
struct DetokenizeRequest: Encodable {
    var model: String
    var tokens: [TokenID]
}

struct DetokenizeResponse: Decodable {
    var prompt: String
}

/// vLLM's `TokenizeResponse`.
struct TokenizeResponse: Decodable {
    var tokens: [TokenID]
}

/// `POST /v1/completions` for the log probs of a token-id prompt: nothing generated (`max_tokens`
/// 0 with `echo` returns the prompt only), the log prob of each prompt token and its top
/// alternative, the ids the server scored.
struct PromptLogprobsRequest: Encodable {
    var model: String
    var prompt: [TokenID]
    /// Sent only when given (the server's default is 1).
    var temperature: Double?
    /// `prompt_logprobs`: how many of the most likely tokens besides the scored one.
    var alternatives: Int

    enum CodingKeys: String, CodingKey {
        case model, prompt, echo, logprobs, temperature
        case maxTokens = "max_tokens"
        case promptLogprobs = "prompt_logprobs"
        case returnTokenIds = "return_token_ids"
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(model, forKey: .model)
        try c.encode(prompt, forKey: .prompt)
        try c.encode(0, forKey: .maxTokens)
        try c.encode(true, forKey: .echo)
        try c.encode(1, forKey: .logprobs)
        try c.encode(alternatives, forKey: .promptLogprobs)
        try c.encode(true, forKey: .returnTokenIds)
        try c.encodeIfPresent(temperature, forKey: .temperature)
    }
}

/// The parts of vLLM's `CompletionResponse` teacher forcing reads: `choices[0].prompt_logprobs`,
/// one entry per prompt token (null first), each `{"<id>": {"logprob", "rank", "decoded_token"}}`
/// holding the actual token and the top alternatives, and `choices[0].prompt_token_ids`.
enum PromptLogprobsResponse {
    struct Wire: Decodable {
        struct Choice: Decodable {
            struct Entry: Decodable { var logprob: Double }
            var prompt_logprobs: [[String: Entry]?]?
            var prompt_token_ids: [TokenID]?
        }
        var choices: [Choice]
        var model: String?
    }

    /// Per position, the log prob of the token the server says it scored there (nil where
    /// absent); a body without a first choice is malformed.
    static func parse(_ data: Data) throws -> PromptLogprobs {
        let wire = try JSONDecoder().decode(Wire.self, from: data)
        guard let choice = wire.choices.first else {
            throw ProviderError.incomplete(detail: "no choices in the response")
        }
        let ids = choice.prompt_token_ids
        let entries = choice.prompt_logprobs ?? []
        let logprobs: [Double?] = entries.enumerated().map { k, entry in
            guard let entry, let ids, k < ids.count else { return nil }
            return entry[String(ids[k])]?.logprob
        }
        let listed: [[TokenID: Double]] = entries.map { entry in
            var out: [TokenID: Double] = [:]
            for (id, value) in entry ?? [:] { if let token = TokenID(id) { out[token] = value.logprob } }
            return out
        }
        return PromptLogprobs(tokenIds: ids, logprobs: logprobs, listed: listed, model: wire.model)
    }
}
