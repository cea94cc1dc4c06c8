public import CJEInference

/// One policy's response to one prompt, as it appears in `all_responses.jsonl`. A failed item
/// has `response: null` and `error`, never placeholder text.
public struct ResponseRecord: Codable, Sendable, Hashable {
    public var response: String?
    public var model: String
    public var temperature: Double
    public var systemPrompt: String
    public var maxTokens: Int
    public var seed: UInt64
    public var finishReason: FinishReason?
    public var nTokens: Int?
    /// Log probability of the sampled tokens (end-of-turn included when finished naturally) under
    /// log-softmax(logits / T) at the decode steps; teacher forcing reproduces it exactly.
    public var sampledLogprob: Double?
    /// The sampled token ids, so that teacher forcing scores exactly what was sampled.
    public var tokenIds: [TokenID]?
    /// The end-of-generation token that ended a naturally finished local response.
    public var stopTokenId: TokenID?
    public var error: String?
    /// `.permanent` for a failure that would come again the same way (never retried).
    public var errorKind: FailureKind?
    /// The draw, for draws after the first (`draws` in the config); absent for draw 0.
    public var drawIdx: Int?
    /// For a response from a provider: the provider's name, the model id the endpoint answered
    /// with, its `system_fingerprint` when given, and the tokens it counted (absent for local
    /// responses, whose model is pinned by its sha256).
    public var provider: String?
    public var servedModel: String?
    public var systemFingerprint: String?
    public var usage: TokenUsage?

    /// The tokens a provider counted for one response.
    public struct TokenUsage: Codable, Sendable, Hashable {
        public var promptTokens: Int
        public var completionTokens: Int

        public init(promptTokens: Int, completionTokens: Int) {
            self.promptTokens = promptTokens
            self.completionTokens = completionTokens
        }

        enum CodingKeys: String, CodingKey {
            case promptTokens = "prompt_tokens"
            case completionTokens = "completion_tokens"
        }
    }

    enum CodingKeys: String, CodingKey {
        case response, model, temperature, seed, error
        case systemPrompt = "system_prompt"
        case maxTokens = "max_tokens"
        case finishReason = "finish_reason"
        case nTokens = "n_tokens"
        case sampledLogprob = "sampled_logprob"
        case tokenIds = "token_ids"
        case stopTokenId = "stop_token_id"
        case errorKind = "error_kind"
        case drawIdx = "draw_idx"
        case provider, usage
        case servedModel = "served_model"
        case systemFingerprint = "system_fingerprint"
    }
}

extension ResponseRecord {
    /// A record of `policy`'s settings with no response yet.
    init(policy: PolicyConfig, model: String, seed: UInt64) {
        self.init(
            response: nil, model: model, temperature: policy.temperature, systemPrompt: policy.systemPrompt,
            maxTokens: policy.maxTokens, seed: seed)
    }

    /// The item failed: no response, the error's message and (when permanent) its kind.
    mutating func fail(_ error: any Error) {
        fail(error.localizedDescription, kind: FailureKind(of: error))
    }

    mutating func fail(_ message: String, kind: FailureKind = .transient) {
        error = message
        errorKind = FailureKind.recorded(kind)
    }
}
