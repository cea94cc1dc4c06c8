import Foundation
import NIOHTTP1

/// How hard a client tries: how many attempts a request gets, the jittered backoff between
/// them, and how long one attempt may take. An OpenAI-compatible provider, the Hub's downloads
/// and the datasets server each take one; only their defaults differ.
public struct RetryPolicy: Sendable, Hashable {
    /// Attempts per request on retryable failures (408, 429, 5xx, timeouts, connection errors).
    public var attempts: Int
    /// The longest one attempt may take (for a download: the longest wait for its next bytes).
    public var timeoutSeconds: Double
    /// First backoff delay; each retry doubles it (with full jitter), up to `maxBackoffSeconds`.
    public var initialBackoffSeconds: Double
    public var maxBackoffSeconds: Double

    public init(
        attempts: Int, timeoutSeconds: Double, initialBackoffSeconds: Double = 0.5, maxBackoffSeconds: Double = 30
    ) {
        self.attempts = attempts
        self.timeoutSeconds = timeoutSeconds
        self.initialBackoffSeconds = initialBackoffSeconds
        self.maxBackoffSeconds = maxBackoffSeconds
    }

    /// Full-jitter exponential backoff: after attempt k, a uniform wait in [0, min(cap, initial *
    /// 2^(k-1))], or the server's Retry-After when that is longer.
    func wait(afterAttempt attempt: Int, retryAfter: Double?) async throws {
        let bound = min(maxBackoffSeconds, initialBackoffSeconds * pow(2, Double(attempt - 1)))
        let delay = max(retryAfter ?? 0, Double.random(in: 0...bound))
        try await Task.sleep(nanoseconds: UInt64(delay * 1_000_000_000))
    }

    /// The retry loop of the Hugging Face readers (datasets-server pages, the Hub's HEADs):
    /// `once` until it answers, up to `attempts` tries with the backoff between them; a try may
    /// ask for another (408, 429, 5xx, an answer it cannot use), timeouts and connection errors
    /// get another, and the caller's own errors (`Final`) end it at once. Counts every try in
    /// `tries` and every wait in `retries`; after the last try, throws `exhausted(why the last
    /// one failed)`.
    func run<Value, Final: Error>(
        ending final: Final.Type, tries: inout Int, retries: inout Int, exhausted: (String) -> Final,
        _ once: () async throws -> Retrying.Try<Value>
    ) async throws -> Value {
        var last = "none"
        for attempt in 1...max(1, attempts) {
            tries += 1
            var retryAfter: Double?
            do {
                switch try await once() {
                case .answer(let value): return value
                case .again(let why, let after): (last, retryAfter) = (why, after)
                }
            } catch let error as Final {
                throw error
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                last = OpenAIClient.isTimeout(error) ? "timeout" : "\(error)"
            }
            if attempt < attempts {
                retries += 1
                try await wait(afterAttempt: attempt, retryAfter: retryAfter)
            }
        }
        throw exhausted(last)
    }
}

/// What the retry loops share: how one try ended, and which answers are worth another.
enum Retrying {
    /// How one try ended: with the answer, or with why to try again.
    enum Try<Value> {
        case answer(Value)
        case again(String, retryAfter: Double?)
    }

    /// A status worth another try: 408, 429, 5xx.
    static func isTransient(_ status: Int) -> Bool { status == 408 || status == 429 || (500..<600).contains(status) }

    /// The wait a `Retry-After` header asks for, in seconds.
    static func retryAfter(_ headers: HTTPHeaders) -> Double? {
        headers.first(name: "Retry-After").flatMap(OpenAIClient.parseRetryAfter)
    }
}
