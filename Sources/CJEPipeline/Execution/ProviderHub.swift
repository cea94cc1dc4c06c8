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
    private let clients = LockedValue<[String: any ChatProvider]>([:])

    /// The real providers: an `OpenAIClient` per config, its key from `environment`.
    public static func openAI(environment: [String: String] = ProcessInfo.processInfo.environment) -> Factory {
        { _, config, cache, ledger in
            try OpenAIClient(settings: config.settings, cacheDirectory: cache, ledger: ledger, environment: environment)
        }
    }

    public init(
        configs: [String: ProviderConfig], cache: URL, ledger: SpendLedger, factory: @escaping Factory = openAI()
    ) {
        self.configs = configs
        self.cache = cache
        self.ledger = ledger
        self.make = factory
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
            let client = try make(name, config, cache.appendingPathComponent(name), ledger)
            clients[name] = client
            return client
        }
    }

    /// Usage so far of every provider used by this invocation.
    public func usage() async -> [String: ProviderUsage] {
        let made = clients.current
        var out: [String: ProviderUsage] = [:]
        for (name, client) in made { out[name] = await client.usage }
        return out
    }
}
