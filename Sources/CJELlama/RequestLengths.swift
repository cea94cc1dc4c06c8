import CJEInference

// The tokens a request needs its sequence to hold: what the engine sizes its context for and
// what each runner refuses past the limit.

extension ScoreRequest {
    /// Context, response and the appended end-of-turn token.
    var tokensNeeded: Int { context.count + response.count + (appendEndOfTurn ? 1 : 0) }
}

extension GenerationRequest {
    /// Context and every new token allowed.
    var tokensNeeded: Int { context.count + maxNewTokens }
}

extension ContinuationRequest {
    /// Context and the longest continuation (with end-of-turn) or greedy answer.
    var tokensNeeded: Int {
        context.count + max((continuations.map(\.count).max() ?? 0) + (appendEndOfTurn ? 1 : 0), greedyMaxTokens)
    }
}
