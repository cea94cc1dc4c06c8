public import CJEInference
public import CJEProviders
public import Foundation

/// The run's provider clients, made on first use and shared by every stage, with one spend
/// ledger over all of them.
public final class ProviderHub: Sendable {
    /// Makes the client of a configured provider: its name, its config, its response cache
    /// folder and the run's ledger. Fails when it cannot be used (its key is not set).
    public typealias Factory =
        @Sendable (_ name: String, _ config: ProviderConfig, _ cache: URL, _ ledger: SpendLedger) throws ->
        any ChatProvider

    public let configs: [String: ProviderConfig]
    public let ledger: SpendLedger
    private let cache: URL
    private let make: Factory
    /// Told the model id of every answer (by provider): throws to stop the run when it changed.
    private let served: (@Sendable (String, String) throws -> Void)?
    private let clients = LockedValue<[String: any ChatProvider]>([:])

    /// The real providers: an `OpenAIClient` per config, its key from `environment`.
    public static func openAI(environment: [String: String] = ProcessInfo.processInfo.environment) -> Factory {
        { _, config, cache, ledger in
            try OpenAIClient(settings: config.settings, cacheDirectory: cache, ledger: ledger, environment: environment)
        }
    }

    /// `served` is told the model id each answer came from, by provider name, and throws (a
    /// fatal error) to stop the run when it is not the run's.
    public init(
        configs: [String: ProviderConfig], cache: URL, ledger: SpendLedger, factory: @escaping Factory = openAI(),
        served: (@Sendable (String, String) throws -> Void)? = nil
    ) {
        self.configs = configs
        self.cache = cache
        self.ledger = ledger
        self.make = factory
        self.served = served
    }

    /// A configured provider's settings (not only its client's): `top_logprobs`, `prefill`.
    public func config(_ name: String) throws -> ProviderConfig {
        guard let config = configs[name] else { throw PipelineError.unknownProvider(name) }
        return config
    }

    /// The client of a configured provider (fails when its key variable is not set).
    public func client(_ name: String) throws -> any ChatProvider {
        try clients.access { clients in
            if let client = clients[name] { return client }
            guard let config = configs[name] else { throw PipelineError.unknownProvider(name) }
            let made = try make(name, config, cache.appendingPathComponent(name), ledger)
            let client: any ChatProvider = served.map { WatchedProvider(name: name, base: made, served: $0) } ?? made
            clients[name] = client
            return client
        }
    }

    /// The client of a provider that teacher-forces over token ids (`teacher_forcing:`).
    public func teacherForcing(_ name: String) throws -> any TeacherForcingProvider {
        let client = try self.client(name)
        let base = (client as? WatchedProvider)?.base ?? client
        if base is any TeacherForcingProvider, let forcing = client as? any TeacherForcingProvider { return forcing }
        throw PipelineError.impossible("provider '\(name)' cannot teacher-force: its client has no token-id endpoints")
    }

    /// Usage so far of every provider used by this invocation.
    public func usage() async -> [String: ProviderUsage] {
        let made = clients.current
        var out: [String: ProviderUsage] = [:]
        for (name, client) in made { out[name] = await client.usage }
        return out
    }
}

/// A provider's client whose every answer's model id is checked against the run's (`served`).
struct WatchedProvider: TeacherForcingProvider {
    let name: String
    let base: any ChatProvider
    let served: @Sendable (String, String) throws -> Void

    var model: String { base.model }
    var usage: ProviderUsage { get async { await base.usage } }
    func batchSize(atLeast minimum: Int) -> Int { base.batchSize(atLeast: minimum) }

    func chat(
        _ messages: [ChatMessage], temperature: Double, maxTokens: Int, seed: UInt64?, topLogprobs: Int?
    ) async throws -> ChatCompletion {
        let answer = try await base.chat(
            messages, temperature: temperature, maxTokens: maxTokens, seed: seed, topLogprobs: topLogprobs)
        if let model = answer.model { try served(name, model) }
        return answer
    }

    private var forcing: any TeacherForcingProvider {
        get throws {
            guard let forcing = base as? any TeacherForcingProvider else {
                throw PipelineError.impossible(
                    "provider '\(name)' cannot teacher-force: its client has no token-id endpoints")
            }
            return forcing
        }
    }

    func templateTokens(_ messages: [ChatMessage], addGenerationPrompt: Bool) async throws -> [TokenID] {
        try await forcing.templateTokens(messages, addGenerationPrompt: addGenerationPrompt)
    }

    func textTokens(_ text: String) async throws -> [TokenID] { try await forcing.textTokens(text) }

    func detokenize(_ ids: [TokenID]) async throws -> String { try await forcing.detokenize(ids) }

    func promptLogprobs(_ ids: [TokenID], temperature: Double?, alternatives: Int, cacheTag: String) async throws
        -> PromptLogprobs
    {
        let answer = try await forcing.promptLogprobs(
            ids, temperature: temperature, alternatives: alternatives, cacheTag: cacheTag)
        if let model = answer.model { try served(name, model) }
        return answer
    }
}
