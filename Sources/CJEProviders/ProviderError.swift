public import CJEInference
public import Foundation

/// Why a provider call failed. Messages never contain an API key.
public enum ProviderError: ClassifiedError, Sendable, Hashable, LocalizedError {
    /// 401 or 403: the key is missing, wrong or not allowed. Stops the stage.
    case unauthorized(status: Int, keyVariable: String?, endpoint: String)
    /// The key variable is not set.
    case missingKey(variable: String)
    /// Another 4xx: the request itself is wrong; retrying will not help.
    case rejected(status: Int, endpoint: String, detail: String)
    /// Retryable failures (429, 5xx, timeouts, resets, malformed bodies) outlasted the attempts.
    case exhausted(attempts: Int, last: String)
    /// The response parsed but lacks what was asked for (e.g. no logprobs).
    case incomplete(detail: String)
    /// The spending budget is used up.
    case budgetExhausted(spent: Double, budget: Double)

    public var errorDescription: String? {
        switch self {
        case .unauthorized(let status, let variable, let endpoint):
            let key = variable.map { "the key in $\($0)" } ?? "the request (no key configured)"
            return
                "\(endpoint) refused \(key) with HTTP \(status); check that the variable holds a valid key for this provider"
        case .missingKey(let variable):
            return "the provider's API key variable $\(variable) is not set"
        case .rejected(let status, let endpoint, let detail):
            return "\(endpoint) rejected the request with HTTP \(status): \(detail)"
        case .exhausted(let attempts, let last):
            return "gave up after \(attempts) attempts; last failure: \(last)"
        case .incomplete(let detail):
            return "incomplete response: \(detail)"
        case .budgetExhausted(let spent, let budget):
            return String(format: "budget reached: spent %.4f of %.4f", spent, budget)
        }
    }

    /// A refused or missing key and a spent budget stop the whole stage rather than fail one
    /// item (`.fatal`); the rest may go otherwise on a later run.
    public var failureKind: FailureKind {
        switch self {
        case .unauthorized, .missingKey, .budgetExhausted: return .fatal
        default: return .transient
        }
    }
}
