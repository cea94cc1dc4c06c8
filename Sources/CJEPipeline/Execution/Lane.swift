/// What a batch of items runs on: a provider's client or a local model's engine. The runner
/// works lane by lane, providers first, each in name order; items keep their order within a lane.
public enum Lane: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// An OpenAI-compatible provider under `providers:`, by name.
    case provider(String)
    /// A local model under `models:`, by name.
    case model(String)

    /// The lane of something configured with a local `model` or a `provider`.
    public static func of(model: String, provider: String?) -> Lane {
        provider.map(Lane.provider) ?? .model(model)
    }

    public var description: String {
        switch self {
        case .provider(let name): return "provider '\(name)'"
        case .model(let name): return "model '\(name)'"
        }
    }
}
