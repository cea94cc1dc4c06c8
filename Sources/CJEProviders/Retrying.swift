import NIOHTTP1

/// The retry loop of the Hugging Face readers (datasets-server pages, the Hub's HEADs): up to
/// `attempts` tries with jittered backoff between them; a try may ask for another (408, 429, 5xx,
/// an answer it cannot use), timeouts and connection errors get another, and the caller's own
/// errors (`Final`) end it at once.
struct Retrying {
    var attempts: Int
    var backoff: Backoff

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

    /// `once` until it answers; counts every try in `tries` and every wait in `retries`; after the
    /// last try, throws `exhausted(why the last one failed)`.
    func run<Value, Final: Error>(
        ending final: Final.Type, tries: inout Int, retries: inout Int, exhausted: (String) -> Final,
        _ once: () async throws -> Try<Value>
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
                try await backoff.wait(afterAttempt: attempt, retryAfter: retryAfter)
            }
        }
        throw exhausted(last)
    }
}
