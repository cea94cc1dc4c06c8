public import CJEProviders
public import Foundation

/// The run's provider clients, made on first use and shared by every stage, with one spend
/// ledger over all of them.
public final class ProviderHub: @unchecked Sendable {
    public let configs: [String: ProviderConfig]
    public let ledger: SpendLedger
    private let cache: URL
    private let environment: [String: String]
    private var clients: [String: OpenAIClient] = [:]
    private let lock = NSLock()

    public init(
        configs: [String: ProviderConfig], cache: URL, ledger: SpendLedger,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) {
        self.configs = configs
        self.cache = cache
        self.ledger = ledger
        self.environment = environment
    }

    /// A configured provider's settings (not only its client's): `top_logprobs`, `prefill`.
    public func config(_ name: String) throws -> ProviderConfig {
        guard let config = configs[name] else { throw PipelineError.unknownProvider(name) }
        return config
    }

    /// The client of a configured provider (fails when its key variable is not set).
    public func client(_ name: String) throws -> OpenAIClient {
        lock.lock()
        defer { lock.unlock() }
        if let client = clients[name] { return client }
        guard let config = configs[name] else { throw PipelineError.unknownProvider(name) }
        let client = try OpenAIClient(
            settings: config.settings, cacheDirectory: cache.appendingPathComponent(name), ledger: ledger,
            environment: environment)
        clients[name] = client
        return client
    }

    /// Usage so far of every provider used by this invocation.
    public func usage() async -> [String: ProviderUsage] {
        let made = lock.withLock { clients }
        var out: [String: ProviderUsage] = [:]
        for (name, client) in made { out[name] = await client.usage }
        return out
    }
}
