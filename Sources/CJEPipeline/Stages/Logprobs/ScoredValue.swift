public import CJEInference

/// A journaled teacher-forcing result for one (prompt, policy).
public struct ScoredValue: Codable, Sendable, Hashable {
    public var logprob: Double?
    public var nTokens: Int?
    public var error: String?
    /// `.permanent` for a failure that would come again the same way (never retried).
    public var errorKind: FailureKind?
    /// The endpoint's protocol for a value teacher-forced over HTTP ("vllm"); absent: the engine.
    public var method: String?

    enum CodingKeys: String, CodingKey {
        case logprob, error, method
        case nTokens = "n_tokens"
        case errorKind = "error_kind"
    }

    init(logprob: Double?, nTokens: Int?, method: String? = nil) {
        self.logprob = logprob
        self.nTokens = nTokens
        self.method = method
    }

    /// A failed item: the error's message and (when permanent) its kind.
    init(failure: any Error) {
        error = failure.localizedDescription
        errorKind = FailureKind.recorded(FailureKind(of: failure))
    }
}
