import Foundation

/// At most `limit` holders at once; waiters are served in arrival order.
actor AsyncSemaphore {
    private var available: Int
    private var waiters: [CheckedContinuation<Void, Never>] = []

    init(limit: Int) { available = max(1, limit) }

    func acquire() async {
        if available > 0 {
            available -= 1
            return
        }
        await withCheckedContinuation { waiters.append($0) }
    }

    func release() {
        if waiters.isEmpty {
            available += 1
        } else {
            waiters.removeFirst().resume()
        }
    }
}

/// Requests-per-minute and tokens-per-minute limits over a sliding 60-second window.
actor RateLimiter {
    private let requestsPerMinute: Int?
    private let tokensPerMinute: Int?
    private var sent: [(time: Date, tokens: Int)] = []

    init(requestsPerMinute: Int?, tokensPerMinute: Int?) {
        self.requestsPerMinute = requestsPerMinute
        self.tokensPerMinute = tokensPerMinute
    }

    /// Waits until a request of about `tokens` tokens fits in the window, then records it.
    func admit(tokens: Int) async {
        while true {
            let now = Date()
            sent.removeAll { now.timeIntervalSince($0.time) >= 60 }
            let requestsOK = requestsPerMinute.map { sent.count < $0 } ?? true
            let used = sent.reduce(0) { $0 + $1.tokens }
            let tokensOK = tokensPerMinute.map { used + tokens <= $0 || sent.isEmpty } ?? true
            if requestsOK && tokensOK {
                sent.append((now, tokens))
                return
            }
            let wait = max(0.05, 60 - now.timeIntervalSince(sent.first?.time ?? now))
            try? await Task.sleep(nanoseconds: UInt64(wait * 1_000_000_000))
        }
    }
}

/// The base URLs of one provider: each request goes to the endpoint with the fewest requests
/// in flight; an endpoint that failed `failuresBeforeRest` times in a row rests for a while.
actor EndpointPool {
    struct Endpoint {
        var url: String
        var outstanding = 0
        var consecutiveFailures = 0
        var restUntil: Date?
        var requests = 0
        var failures = 0
    }

    private(set) var endpoints: [Endpoint]
    private let failuresBeforeRest: Int
    private let restSeconds: Double

    init(urls: [String], failuresBeforeRest: Int, restSeconds: Double) {
        endpoints = urls.map { Endpoint(url: $0) }
        self.failuresBeforeRest = max(1, failuresBeforeRest)
        self.restSeconds = restSeconds
    }

    /// The endpoint to use now: the least busy of those not resting (all resting: the one
    /// whose rest ends first).
    func acquire() -> Int {
        let now = Date()
        let awake = endpoints.indices.filter { endpoints[$0].restUntil.map { $0 <= now } ?? true }
        let index =
            awake.min { endpoints[$0].outstanding < endpoints[$1].outstanding }
            ?? endpoints.indices.min { (endpoints[$0].restUntil ?? now) < (endpoints[$1].restUntil ?? now) } ?? 0
        if let rest = endpoints[index].restUntil, rest <= now { endpoints[index].restUntil = nil }
        endpoints[index].outstanding += 1
        endpoints[index].requests += 1
        return index
    }

    func release(_ index: Int, succeeded: Bool) {
        endpoints[index].outstanding -= 1
        if succeeded {
            endpoints[index].consecutiveFailures = 0
        } else {
            endpoints[index].failures += 1
            endpoints[index].consecutiveFailures += 1
            if endpoints[index].consecutiveFailures >= failuresBeforeRest {
                endpoints[index].restUntil = Date().addingTimeInterval(restSeconds)
                endpoints[index].consecutiveFailures = 0
            }
        }
    }

    func url(_ index: Int) -> String { endpoints[index].url }
}
