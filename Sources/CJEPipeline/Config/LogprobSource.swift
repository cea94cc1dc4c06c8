/// Where one policy's teacher-forced log probs come from under a config, or why it has none.
public enum LogprobSource: Sendable, Hashable {
    /// The in-process engine, on a local model.
    case local(model: String)
    /// A provider that teacher-forces over token ids (`teacher_forcing:`), at temperature 1.
    case endpoint(provider: String, protocol: TeacherForcingProtocol)
    /// No exact value can be had: the policy is Direct mode only.
    case none(reason: String)

    /// How the values are computed (`logprob_methods` in `data/logprobs.jsonl`): "local" or the
    /// endpoint's protocol; nil for none.
    public var method: String? {
        switch self {
        case .local: return "local"
        case .endpoint(_, let kind): return kind.rawValue
        case .none: return nil
        }
    }

    public var isAvailable: Bool { method != nil }
}

extension PipelineConfig {
    /// Where `policy`'s log probs come from under this config (`logprobs:` and its provider's
    /// `teacher_forcing`).
    public func logprobSource(of policy: PolicyConfig) -> LogprobSource {
        if logprobs == .off { return .none(reason: "logprobs: off in the config") }
        guard let name = policy.provider else { return .local(model: policy.model) }
        guard let kind = providers[name]?.teacherForcing else {
            return .none(
                reason:
                    "provider '\(name)' declares no teacher_forcing: a chat endpoint returns no prompt log probs over token ids, so no exact value exists (Direct mode only)"
            )
        }
        return .endpoint(provider: name, protocol: kind)
    }

    /// Whether every policy, the logging policy included, has a source of log probs: only then
    /// is the off-policy set (`cje/cje_dataset.jsonl`, cje-eval 0.3) written.
    public var hasOffPolicySet: Bool { policies.allSatisfy { logprobSource(of: $0).isAvailable } }

    /// One sentence saying that the run is Direct mode only, and why; nil when it has log probs
    /// for every policy.
    public var directOnly: String? {
        if hasOffPolicySet { return nil }
        if logprobs == .off {
            return
                "Direct mode only: `logprobs: off` in the config, so no policy has log probs and cje/cje_dataset.jsonl (cje-eval 0.3's off-policy set) is not written."
        }
        let missing = policies.filter { !logprobSource(of: $0).isAvailable }
        let byProvider = Dictionary(grouping: missing, by: { $0.provider ?? "" })
        let parts = byProvider.keys.sorted().map { provider in
            let names = byProvider[provider, default: []].map { "'\($0.name)'" }.joined(separator: ", ")
            return "\(names) on provider '\(provider)'"
        }
        return
            "Direct mode only: \(parts.joined(separator: "; ")) cannot be teacher-forced exactly (no teacher_forcing declared: a chat endpoint returns no prompt log probs over token ids), so cje/cje_dataset.jsonl (cje-eval 0.3's off-policy set) is not written."
    }

    /// The policies' log-prob settings checked together: `required` needs every policy to have
    /// a source, and an endpoint that returns temperature-1 values cannot score a policy
    /// sampled at another temperature.
    func validateLogprobs(fail: (String, String) -> ConfigError) throws {
        guard logprobs != .off else { return }
        for (k, policy) in policies.enumerated() {
            guard case .endpoint(let provider, let kind) = logprobSource(of: policy), policy.temperature != 1,
                providers[provider]?.temperatureProbe != true
            else {
                continue
            }
            throw fail(
                "policies[\(k)].temperature",
                "is \(policy.temperature) for '\(policy.name)' on provider '\(provider)' (teacher_forcing: \(kind.rawValue)), but \(kind.rawValue) returns prompt log probs at temperature 1 only, and a temperature-1 log prob cannot be turned into one at \(policy.temperature) (the normaliser needs the whole vocabulary). Use temperature 1, remove teacher_forcing from the provider (the policy is then Direct mode only), set logprobs: off, or, for a server that applies the request's temperature to prompt log probs, temperature_probe: true on the provider (the run first checks that it does)"
            )
        }
        if logprobs == .required {
            let missing = policies.filter { !logprobSource(of: $0).isAvailable }
            if !missing.isEmpty {
                let names = missing.map { "'\($0.name)' (provider '\($0.provider ?? "")')" }.joined(separator: ", ")
                throw fail(
                    "logprobs",
                    "is 'required' (the off-policy set of cje-eval 0.3), but \(names) cannot be teacher-forced exactly: a provider without teacher_forcing returns no prompt log probs over token ids, and cje-prep never writes a number it cannot stand behind. Use a local model or a vLLM endpoint (teacher_forcing: vllm) for those policies, or logprobs: auto for a run whose hosted policies are Direct mode only"
                )
            }
        }
    }
}
