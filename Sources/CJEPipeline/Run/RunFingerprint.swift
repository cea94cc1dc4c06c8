import Foundation

/// Everything that decides a run's numbers. A run directory keeps it in its manifest and
/// refuses to resume under another one.
public struct RunFingerprint: Codable, Sendable, Hashable {
    /// The config without what changes no number (`configText(of:)`), as sorted-key JSON.
    public var config: String
    /// sha256 of each model file, by config name.
    public var models: [String: String]
    /// The inference engine and its version, e.g. "llama.cpp 0c1e57098".
    public var engine: String
    /// The content of a prompt file, as "sha256 <hex>" (nil for the built-in prompts and a
    /// Hugging Face dataset, whose rows the prompts stage checks against the manifest).
    public var promptSource: String?
    /// sha256 of each local model's chat template source (of the name, for a built-in one), by
    /// config name: the template decides every prompt's bytes.
    public var templates: [String: String]?

    public init(
        config: String, models: [String: String], engine: String, promptSource: String? = nil,
        templates: [String: String]? = nil
    ) {
        self.config = config
        self.models = models
        self.engine = engine
        self.promptSource = promptSource
        self.templates = templates
    }

    /// The fingerprint of `config` run with these model files on this engine; a prompt file's
    /// bytes are read and hashed.
    public init(
        config: PipelineConfig, models: [String: String], engine: String, templates: [String: String]? = nil
    ) throws {
        self.init(
            config: try Self.configText(of: config), models: models, engine: engine,
            promptSource: try PromptSource.digest(of: config.prompts), templates: templates)
    }

    enum CodingKeys: String, CodingKey {
        case config, models, engine, templates
        case promptSource = "prompt_source"
    }

    /// The config part: everything but `n` and the draws per prompt (which may grow: each draw's
    /// seed is its own), the engine's shape, the failure
    /// policy, and where providers run, how hard they are pushed and what they cost; none of
    /// these changes a number.
    public static func configText(of config: PipelineConfig) throws -> String {
        var stable = config
        stable.n = 0
        stable.draws = 1
        for k in stable.policies.indices { stable.policies[k].draws = nil }
        stable.engine = EngineConfig()
        stable.maxFailureRate = PipelineConfig.default.maxFailureRate
        stable.maxAttempts = PipelineConfig.default.maxAttempts
        stable.providers = config.providers.mapValues(\.fingerprinted)
        stable.budget = nil
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(stable), as: UTF8.self)
    }

    /// What differs from `other`, for a person.
    public func differences(from other: RunFingerprint) -> [String] {
        var out: [String] = []
        if engine != other.engine { out.append("engine: \(other.engine) -> \(engine)") }
        if promptSource != other.promptSource {
            let object = (try? JSONSerialization.jsonObject(with: Data(config.utf8))) as? [String: Any]
            let file = ((object?["prompts"] as? [String: Any])?["source"] as? String).map { " \($0)" } ?? ""
            out.append(
                "the content of the prompt file\(file) changed: \(other.promptSource ?? "not recorded") -> \(promptSource ?? "not recorded")"
            )
        }
        for name in Set(models.keys).union(other.models.keys).sorted() where models[name] != other.models[name] {
            out.append(
                "model '\(name)': sha256 \(other.models[name]?.prefix(12) ?? "none") -> \(models[name]?.prefix(12) ?? "none")"
            )
        }
        let names = Set((templates ?? [:]).keys).union((other.templates ?? [:]).keys)
        for name in names.sorted() where templates?[name] != other.templates?[name] {
            out.append(
                "model '\(name)': chat template sha256 \(other.templates?[name]?.prefix(12) ?? "not recorded") -> \(templates?[name]?.prefix(12) ?? "not recorded")"
            )
        }
        if config != other.config {
            let a = (try? JSONSerialization.jsonObject(with: Data(other.config.utf8))) as? [String: Any] ?? [:]
            let b = (try? JSONSerialization.jsonObject(with: Data(config.utf8))) as? [String: Any] ?? [:]
            for key in Set(a.keys).union(b.keys).sorted() {
                let x = a[key].flatMap {
                    try? JSONSerialization.data(withJSONObject: $0, options: [.sortedKeys, .fragmentsAllowed])
                }
                let y = b[key].flatMap {
                    try? JSONSerialization.data(withJSONObject: $0, options: [.sortedKeys, .fragmentsAllowed])
                }
                if x != y { out.append("config '\(key)' changed") }
            }
        }
        return out
    }
}
