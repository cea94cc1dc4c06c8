/// What the logprobs stage computes (`logprobs:` in the config). CJE's Direct mode (cje-eval 0.4
/// and later) needs no log prob; only the off-policy set of cje-eval 0.3 does.
public enum LogprobsMode: String, Codable, Sendable, Hashable, CaseIterable {
    /// Every value that can be exact: local policies on the engine, provider policies whose
    /// provider declares `teacher_forcing`; every other policy says why it has none.
    case auto
    /// Every policy must have log probs (cje-eval 0.3): a policy that cannot be teacher-forced
    /// exactly is refused when the config is loaded.
    case required
    /// No log prob for any policy: the run is Direct mode only.
    case off
}

/// How an endpoint teacher-forces over token ids (`teacher_forcing:` on a provider): which
/// server family's protocol gives the chat template's ids and the prompt's log probs.
public enum TeacherForcingProtocol: String, Codable, Sendable, Hashable, CaseIterable {
    /// vLLM's `POST /tokenize` (the server's own chat template, as ids) and
    /// `POST /v1/completions` with a token-id prompt and `prompt_logprobs`.
    case vllm
    /// Named families cje-prep cannot yet teacher-force exactly, with why.
    case sglang
    case fireworks

    /// Why this family is not supported, or nil.
    var unsupported: String? {
        switch self {
        case .vllm:
            return nil
        case .sglang:
            return
                "is 'sglang', which cje-prep cannot teacher-force exactly yet: SGLang's /generate takes token ids and returns input log probs, but it has no endpoint that renders the chat template into ids, so the boundary between the prompt and the response would be guessed. Serve the model with vLLM (teacher_forcing: vllm), or leave the key out for a Direct-mode run"
        case .fireworks:
            return
                "is 'fireworks', which cje-prep cannot teacher-force exactly yet: Fireworks echoes prompt log probs over token ids, but it has no endpoint that renders the chat template into ids, and whether it applies the temperature to them is undocumented. Leave the key out for a Direct-mode run (the responses, judge scores and labels are complete)"
        }
    }
}
