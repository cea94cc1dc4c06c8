/// A line of `logprobs.jsonl`: the P0 response's log probability under every policy.
public struct LogprobsRecord: Codable, Sendable, Hashable {
    public var promptId: String
    public var prompt: String
    public var p0Response: String?
    /// Teacher-forced log P(P0 response | prompt) per policy; null where it failed.
    public var logprobs: [String: Double?]
    public var nResponseTokens: Int?
    public var errors: [String: String]
    /// The P0 response's sampled log prob, and teacher forcing's value minus it (0 when exact).
    public var p0SampledLogprob: Double?
    public var p0SampledMinusScored: Double?
    /// How each value was computed: "local" (the engine) or the endpoint's protocol ("vllm").
    public var logprobMethods: [String: String]?
    /// Policies that have no log prob by design, with why (a provider that cannot teacher-force
    /// exactly, `logprobs: off`): not failures, and never retried.
    public var unavailable: [String: String]?

    enum CodingKeys: String, CodingKey {
        case prompt, logprobs, errors
        case promptId = "prompt_id"
        case p0Response = "p0_response"
        case nResponseTokens = "n_response_tokens"
        case p0SampledLogprob = "p0_sampled_logprob"
        case p0SampledMinusScored = "p0_sampled_minus_scored"
        case logprobMethods = "logprob_methods"
        case unavailable
    }

    /// Encodes every policy key, with null for failures (JSONEncoder would drop nil values).
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(promptId, forKey: .promptId)
        try c.encode(prompt, forKey: .prompt)
        try c.encode(p0Response, forKey: .p0Response)
        var inner = c.nestedContainer(keyedBy: AnyKey.self, forKey: .logprobs)
        for (policy, value) in logprobs {
            try inner.encode(value, forKey: AnyKey(stringValue: policy))
        }
        try c.encode(nResponseTokens, forKey: .nResponseTokens)
        try c.encode(errors, forKey: .errors)
        try c.encode(p0SampledLogprob, forKey: .p0SampledLogprob)
        try c.encode(p0SampledMinusScored, forKey: .p0SampledMinusScored)
        try c.encodeIfPresent(logprobMethods, forKey: .logprobMethods)
        if let unavailable, !unavailable.isEmpty { try c.encode(unavailable, forKey: .unavailable) }
    }
}
