import CJEInference
public import Foundation
import Yams

/// Everything a run needs, with every default in one place (`PipelineConfig.default`).
public struct PipelineConfig: Codable, Sendable, Hashable {
    /// Run seed: prompt sampling and every per-item seed derive from it.
    public var seed: UInt64
    /// Prompts to sample.
    public var n: Int
    public var prompts: PromptsConfig
    /// Named local models; "default" is the SmolLM2 demo model unless given a path.
    public var models: [String: ModelConfig]
    /// OpenAI-compatible providers by name, for policies, judge and oracle.
    public var providers: [String: ProviderConfig] = [:]
    /// Spending limit for the whole run over every provider (same currency as the prices);
    /// reaching it stops the run cleanly, keeping everything paid for.
    public var budget: Double?
    /// The logging policy's name (its responses are the ones teacher-forced).
    public var loggingPolicy: String
    public var policies: [PolicyConfig]
    /// Responses per prompt from every policy (a policy's own `draws` overrides it): draw 0 is
    /// the logged response; each draw has its own seed, and every draw is judged.
    public var draws = 1
    /// The smallest difference in a policy's mean label (on the 0-1 label scale) that would
    /// change a decision, declared before any result exists: kept in the fingerprint (so it
    /// cannot change once results do), the bundle and the report. Nil: none declared.
    public var decisionMargin: Double?
    /// Which policies get teacher-forced log probs: `auto` (every exact one), `required`
    /// (every policy, or the config is refused) or `off` (none: Direct mode only).
    public var logprobs = LogprobsMode.auto
    public var judge: LabellerConfig
    public var oracle: OracleConfig
    public var engine: EngineConfig
    /// A stage with a larger share of failed items exits non-zero (failures are kept as nulls).
    public var maxFailureRate: Double
    /// Attempts per item across resumes before it stays failed.
    public var maxAttempts: Int

    /// How many responses `policy` gives each prompt.
    public func draws(of policy: PolicyConfig) -> Int { policy.draws ?? draws }

    /// Whether any policy draws more than once (the judge then writes `phase2/draws_scored_*`).
    public var hasLaterDraws: Bool { policies.contains { draws(of: $0) > 1 } }

    /// The largest number of draws per prompt.
    public static let maximumDraws = 1000

    /// The models of the policies that run locally.
    public var localPolicyModels: [String] { policies.filter { $0.provider == nil }.map(\.model) }

    public static let helpfulSystemPrompt = "You are a helpful assistant. Answer clearly, accurately and concisely."
    public static let unhelpfulSystemPrompt =
        "You are an unhelpful assistant. Give vague, evasive answers and never address the question."

    /// The built-in default experiment: p0, pi_clone (identical to p0) and pi_bad.
    public static let `default` = PipelineConfig(
        seed: 42, n: 20, prompts: PromptsConfig(), models: ["default": ModelConfig()], loggingPolicy: "p0",
        policies: [
            PolicyConfig(name: "p0", systemPrompt: helpfulSystemPrompt),
            PolicyConfig(name: "pi_clone", systemPrompt: helpfulSystemPrompt),
            PolicyConfig(name: "pi_bad", systemPrompt: unhelpfulSystemPrompt),
        ],
        judge: LabellerConfig(), oracle: OracleConfig(), engine: EngineConfig(), maxFailureRate: 0.05, maxAttempts: 3)

    enum CodingKeys: String, CodingKey, CaseIterable {
        case seed, n, prompts, models, providers, budget, policies, draws, judge, oracle, engine
        case loggingPolicy = "logging_policy"
        case maxFailureRate = "max_failure_rate"
        case maxAttempts = "max_attempts"
        case decisionMargin = "decision_margin"
        case logprobs
    }

    public init(
        seed: UInt64, n: Int, prompts: PromptsConfig, models: [String: ModelConfig], loggingPolicy: String,
        policies: [PolicyConfig], judge: LabellerConfig, oracle: OracleConfig, engine: EngineConfig,
        maxFailureRate: Double, maxAttempts: Int
    ) {
        self.seed = seed
        self.n = n
        self.prompts = prompts
        self.models = models
        self.loggingPolicy = loggingPolicy
        self.policies = policies
        self.judge = judge
        self.oracle = oracle
        self.engine = engine
        self.maxFailureRate = maxFailureRate
        self.maxAttempts = maxAttempts
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = Self.default
        seed = try c.decodeIfPresent(UInt64.self, forKey: .seed) ?? d.seed
        n = try c.decodeIfPresent(Int.self, forKey: .n) ?? d.n
        prompts = try c.decodeIfPresent(PromptsConfig.self, forKey: .prompts) ?? d.prompts
        models = try c.decodeIfPresent([String: ModelConfig].self, forKey: .models) ?? d.models
        if models["default"] == nil { models["default"] = ModelConfig() }
        providers = try c.decodeIfPresent([String: ProviderConfig].self, forKey: .providers) ?? [:]
        budget = try c.decodeIfPresent(Double.self, forKey: .budget)
        loggingPolicy = try c.decodeIfPresent(String.self, forKey: .loggingPolicy) ?? d.loggingPolicy
        policies = try c.decodeIfPresent([PolicyConfig].self, forKey: .policies) ?? d.policies
        draws = try c.decodeIfPresent(Int.self, forKey: .draws) ?? d.draws
        decisionMargin = try c.decodeIfPresent(Double.self, forKey: .decisionMargin)
        logprobs = try c.decodeChoice(LogprobsMode.self, forKey: .logprobs) ?? d.logprobs
        judge = try c.decodeIfPresent(LabellerConfig.self, forKey: .judge) ?? d.judge
        oracle = try c.decodeIfPresent(OracleConfig.self, forKey: .oracle) ?? d.oracle
        engine = try c.decodeIfPresent(EngineConfig.self, forKey: .engine) ?? d.engine
        maxFailureRate = try c.decodeIfPresent(Double.self, forKey: .maxFailureRate) ?? d.maxFailureRate
        maxAttempts = try c.decodeIfPresent(Int.self, forKey: .maxAttempts) ?? d.maxAttempts
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(seed, forKey: .seed)
        try c.encode(n, forKey: .n)
        try c.encode(prompts, forKey: .prompts)
        try c.encode(models, forKey: .models)
        if !providers.isEmpty { try c.encode(providers, forKey: .providers) }
        try c.encodeIfPresent(budget, forKey: .budget)
        try c.encode(loggingPolicy, forKey: .loggingPolicy)
        try c.encode(policies, forKey: .policies)
        if draws != 1 { try c.encode(draws, forKey: .draws) }
        try c.encodeIfPresent(decisionMargin, forKey: .decisionMargin)
        // Only when not the default, so a run made before the key existed keeps its fingerprint.
        if logprobs != .auto { try c.encode(logprobs, forKey: .logprobs) }
        try c.encode(judge, forKey: .judge)
        try oracle.encode(to: c.superEncoder(forKey: .oracle), judgeMaxTokens: judge.maxTokens)
        try c.encode(engine, forKey: .engine)
        try c.encode(maxFailureRate, forKey: .maxFailureRate)
        try c.encode(maxAttempts, forKey: .maxAttempts)
    }

    /// Marks a decoder reading a run's stored config (the fingerprint's), which keeps no
    /// provider endpoint.
    static let storedKey: CodingUserInfoKey = {
        guard let key = CodingUserInfoKey(rawValue: "cje-prep.stored-config") else {
            preconditionFailure("a constant user-info key")
        }
        return key
    }()

    /// The config a run stored in its manifest's fingerprint: everything that decides a number,
    /// without where providers run, how hard they are pushed, or `n`.
    public static func stored(_ text: String) throws -> PipelineConfig {
        let decoder = JSONDecoder()
        decoder.userInfo[storedKey] = true
        return try decoder.decode(PipelineConfig.self, from: Data(text.utf8))
    }

    /// The largest sample a run may ask for.
    public static let maximumN = 100_000_000

    /// The largest config file read: a config is a few dozen keys.
    public static let maximumFileBytes = 1 << 20
    /// The most YAML nodes a config may hold.
    static let maximumNodes = 100_000

    /// Reads a YAML config; every problem names the file and the key path (or line).
    public static func load(from url: URL) throws -> PipelineConfig {
        var data: Data
        do {
            let attributes = try FileManager.default.attributesOfItem(atPath: url.path)
            if let size = attributes[.size] as? Int, size > maximumFileBytes {
                throw ConfigError.syntax(
                    path: url.path,
                    detail: "it is \(size) bytes; a config is at most \(maximumFileBytes) bytes (a few dozen keys)")
            }
            data = try Data(contentsOf: url)
        } catch let error as ConfigError {
            throw error
        } catch {
            throw ConfigError.unreadable(path: url.path, detail: FileFailure.describe(error))
        }
        if data.starts(with: TextCheck.byteOrderMark) { data = data.dropFirst(TextCheck.byteOrderMark.count) }
        if let problem = TextCheck.problem(in: data) {
            throw ConfigError.syntax(
                path: url.path, detail: "line \(problem.line), column \(problem.column) \(problem.what)")
        }
        return try parse(String(decoding: data, as: UTF8.self), path: url.path)
    }

    /// Parses YAML text (an empty document is the default config) and validates it.
    public static func parse(_ text: String, path: String) throws -> PipelineConfig {
        let config: PipelineConfig
        do {
            if text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
                config = .default
            } else {
                guard let node = try Yams.compose(yaml: text) else { return .default }
                try checkNodes(node, path: path)
                config = try YAMLDecoder().decode(PipelineConfig.self, from: node)
            }
        } catch let error as UnknownConfigKey {
            throw ConfigError.unknownKey(path: path, key: error.path, known: error.known)
        } catch let error as DecodingError {
            throw ConfigError.from(error, path: path)
        } catch let error as ConfigError {
            throw error
        } catch {
            throw ConfigError.syntax(path: path, detail: "\(error)")
        }
        try config.validate(path: path)
        return config
    }

    /// Refuses anchors and aliases (a node met twice: an alias repeats the node it names, with
    /// its position) and documents that expand past `maximumNodes`, before anything walks them.
    private static func checkNodes(_ root: Node, path: String) throws {
        var seen = Set<String>()
        var count = 0
        var stack = [root]
        while let node = stack.popLast() {
            count += 1
            if count > maximumNodes {
                throw ConfigError.syntax(path: path, detail: "it holds more than \(maximumNodes) YAML nodes")
            }
            var children: [Node] = []
            switch node {
            case .mapping(let mapping):
                for (key, value) in mapping { children += [key, value] }
            case .sequence(let sequence):
                children = Array(sequence)
            default:
                break
            }
            if let mark = node.mark {
                let kind = node.mapping != nil ? "mapping" : node.sequence != nil ? "sequence" : "scalar"
                let position = "\(kind) \(mark.line):\(mark.column)"
                if !seen.insert(position).inserted {
                    throw ConfigError.syntax(
                        path: path,
                        detail:
                            "line \(mark.line) is used again through an alias (*name); aliases and anchors are not allowed in a config: write the value out"
                    )
                }
            }
            stack += children
        }
    }

    public func validate(path: String) throws {
        func fail(_ key: String, _ reason: String) -> ConfigError { .invalid(path: path, key: key, reason: reason) }
        if n < 1 { throw fail("n", "must be at least 1 (got \(n))") }
        if n > Self.maximumN { throw fail("n", "must be at most \(Self.maximumN) (got \(n))") }
        if !(EngineLimits.minimumSequenceContext...EngineLimits.maximumSequenceContext).contains(engine.sequenceContext)
        {
            throw fail(
                "engine.sequence_context",
                "must be between \(EngineLimits.minimumSequenceContext) and \(EngineLimits.maximumSequenceContext) tokens (got \(engine.sequenceContext))"
            )
        }
        if !(maxFailureRate >= 0 && maxFailureRate <= 1) { throw fail("max_failure_rate", "must be between 0 and 1") }
        if maxAttempts < 1 { throw fail("max_attempts", "must be at least 1") }
        if policies.isEmpty { throw fail("policies", "must name at least the logging policy") }
        var names = Set<String>()
        for (i, policy) in policies.enumerated() {
            let key = "policies[\(i)]"
            if policy.name.isEmpty || policy.name.contains("/") || policy.name.contains(" ") {
                throw fail(key + ".name", "must be a non-empty name without spaces or slashes")
            }
            if !names.insert(policy.name).inserted { throw fail(key + ".name", "'\(policy.name)' is used twice") }
            if let provider = policy.provider {
                if providers[provider] == nil {
                    throw fail(key + ".provider", "names provider '\(provider)', which is not under 'providers'")
                }
            } else if models[policy.model] == nil {
                throw fail(key + ".model", "names model '\(policy.model)', which is not under 'models'")
            }
            if !(EngineLimits.isScoringTemperature(policy.temperature) && policy.temperature <= 5) {
                throw fail(
                    key + ".temperature", "must be > 0 and <= 5: a policy is a distribution (got \(policy.temperature))"
                )
            }
            if policy.maxTokens < 1 { throw fail(key + ".max_tokens", "must be at least 1") }
            if policy.maxTokens >= engine.sequenceContext {
                throw fail(
                    key + ".max_tokens",
                    "(\(policy.maxTokens)) must be less than engine.sequence_context (\(engine.sequenceContext)): a sequence holds the prompt and the response"
                )
            }
        }
        if !names.contains(loggingPolicy) {
            throw fail(
                "logging_policy",
                "'\(loggingPolicy)' is not one of the policies (\(policies.map(\.name).joined(separator: ", ")))")
        }
        for (name, model) in models.sorted(by: { $0.key < $1.key }) {
            if let problem = model.problem() { throw fail("models.\(name).\(problem.key)", problem.message) }
            if name != "default" && model.path == nil && model.hf == nil {
                throw fail("models.\(name).path", "is required for every model but 'default' (or 'hf' and 'file')")
            }
        }
        for (name, provider) in providers.sorted(by: { $0.key < $1.key }) {
            if name.isEmpty || name.contains("/") || name.contains(" ") {
                throw fail("providers.\(name)", "needs a name without spaces or slashes")
            }
            try provider.validate("providers.\(name)", fail: fail)
        }
        if let dataset = prompts.huggingFaceDataset {
            if dataset.isEmpty {
                throw fail("prompts.source", "'hf:' needs a dataset, e.g. hf:lmsys/chatbot_arena_conversations")
            }
            if prompts.maxRows.map({ $0 < 1 }) ?? false { throw fail("prompts.max_rows", "must be at least 1") }
            guard let url = URL(string: prompts.hfEndpoint), ["http", "https"].contains(url.scheme ?? "") else {
                throw fail("prompts.hf_endpoint", "must be an http(s) URL")
            }
        }
        if let budget, !(budget > 0 && budget.isFinite) {
            throw fail("budget", "must be a number > 0 (leave it out for no limit)")
        }
        if let decisionMargin, !(decisionMargin > 0 && decisionMargin < 1) {
            throw fail(
                "decision_margin",
                "must be a number in (0, 1): the smallest difference in mean label (0-1 scale) that would change the decision"
            )
        }
        try validateLogprobs(fail: fail)
        try judge.validate("judge", config: self, fail: fail)
        try oracle.labeller.validate("oracle", config: self, fail: fail)
        try oracle.validateDesign(fail: fail)
        if !(1...Self.maximumDraws).contains(draws) {
            throw fail("draws", "must be between 1 and \(Self.maximumDraws) (responses per prompt; got \(draws))")
        }
        for (k, policy) in policies.enumerated() {
            if let own = policy.draws, !(1...Self.maximumDraws).contains(own) {
                throw fail("policies[\(k)].draws", "must be between 1 and \(Self.maximumDraws) (got \(own))")
            }
        }
        if let threads = engine.threads, !(1...EngineLimits.maximumThreads).contains(threads) {
            throw fail("engine.threads", "must be between 1 and \(EngineLimits.maximumThreads) (got \(threads))")
        }
        if let sequences = engine.maxSequences, !EngineLimits.sequences.contains(sequences) {
            throw fail(
                "engine.max_sequences",
                "must be between \(EngineLimits.sequences.lowerBound) and \(EngineLimits.sequences.upperBound) (got \(sequences))"
            )
        }
    }

    /// The logging policy's settings.
    /// The logging policy's settings (`validate` makes sure it is one of the policies).
    public var logging: PolicyConfig { policies.first { $0.name == loggingPolicy } ?? policies[0] }
}
