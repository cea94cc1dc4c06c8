public import CJEInference
public import Foundation

/// A chat completion request, as sent to `POST {base}/chat/completions`. Built here from
/// engine-neutral values (`OpenAIClient.chat(_:temperature:maxTokens:seed:topLogprobs:)`); no
/// module above this one sees the wire format.
struct ChatCompletionRequest: Sendable, Hashable, Encodable {
    var model: String
    var messages: [ChatMessage]
    var temperature: Double
    var maxTokens: Int
    var seed: UInt64?
    /// Ask for the log prob of each generated token and the `topLogprobs` most likely at each step.
    var logprobs: Bool
    var topLogprobs: Int?

    init(
        model: String, messages: [ChatMessage], temperature: Double, maxTokens: Int, seed: UInt64? = nil,
        logprobs: Bool = false, topLogprobs: Int? = nil
    ) {
        self.model = model
        self.messages = messages
        self.temperature = temperature
        self.maxTokens = maxTokens
        self.seed = seed
        self.logprobs = logprobs
        self.topLogprobs = topLogprobs
    }

    enum CodingKeys: String, CodingKey {
        case model, messages, temperature, seed, logprobs
        case maxTokens = "max_tokens"
        case topLogprobs = "top_logprobs"
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(model, forKey: .model)
        try c.encode(messages.map { ["role": $0.role.rawValue, "content": $0.content] }, forKey: .messages)
        try c.encode(temperature, forKey: .temperature)
        try c.encode(maxTokens, forKey: .maxTokens)
        try c.encodeIfPresent(seed, forKey: .seed)
        if logprobs {
            try c.encode(true, forKey: .logprobs)
            try c.encodeIfPresent(topLogprobs, forKey: .topLogprobs)
        }
    }

    /// The canonical body: sorted keys, so equal requests have equal bytes (and cache keys).
    func body() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(self)
    }
}

extension ChatCompletion {
    /// Parses an OpenAI chat completion body; a body without a first choice's message is an error.
    public static func parse(_ data: Data) throws -> ChatCompletion {
        struct Wire: Decodable {
            struct Choice: Decodable {
                struct Message: Decodable { var content: String? }
                struct Logprobs: Decodable { var content: [TokenLogprob]? }
                var message: Message
                var finish_reason: String?
                var logprobs: Logprobs?
            }
            struct Usage: Decodable {
                var prompt_tokens: Int?
                var completion_tokens: Int?
            }
            var choices: [Choice]
            var usage: Usage?
            var model: String?
            var system_fingerprint: String?
        }
        let wire = try JSONDecoder().decode(Wire.self, from: data)
        guard let choice = wire.choices.first else {
            throw ProviderError.incomplete(detail: "no choices in the response")
        }
        return ChatCompletion(
            text: choice.message.content ?? "", finishReason: choice.finish_reason,
            promptTokens: wire.usage?.prompt_tokens ?? 0, completionTokens: wire.usage?.completion_tokens ?? 0,
            logprobs: choice.logprobs?.content, model: wire.model, systemFingerprint: wire.system_fingerprint)
    }
}
