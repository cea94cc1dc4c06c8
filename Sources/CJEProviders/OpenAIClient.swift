import AsyncHTTPClient
public import CJEInference
public import Foundation
import NIOCore
import NIOHTTP1

#if canImport(Glibc)
    import Glibc
#endif

/// A client for one OpenAI-compatible provider: bounded concurrency, rate limits, retries with
/// backoff and jitter (honouring Retry-After), several base URLs, usage and cost accounting and
/// an on-disk response cache keyed by the request's bytes.
public final class OpenAIClient: ChatProvider, Sendable {
    public let settings: ProviderSettings
    private let key: String?
    private let cache: ResponseCache?
    private let ledger: SpendLedger?
    private let semaphore: AsyncSemaphore
    private let limiter: RateLimiter
    private let pool: EndpointPool
    private let counter = UsageCounter()

    /// Fails when the key variable is named but not set.
    public init(
        settings: ProviderSettings, cacheDirectory: URL? = nil, ledger: SpendLedger? = nil,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws {
        self.settings = settings
        if let variable = settings.apiKeyEnv {
            guard let key = environment[variable], !key.isEmpty else {
                throw ProviderError.missingKey(variable: variable)
            }
            self.key = key
        } else {
            key = nil
        }
        cache = cacheDirectory.map { ResponseCache(directory: $0) }
        self.ledger = ledger
        semaphore = AsyncSemaphore(limit: settings.maxConcurrent)
        limiter = RateLimiter(requestsPerMinute: settings.requestsPerMinute, tokensPerMinute: settings.tokensPerMinute)
        pool = EndpointPool(
            urls: settings.baseURLs.map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 },
            failuresBeforeRest: settings.failuresBeforeRest, restSeconds: settings.restSeconds)
    }

    public var usage: ProviderUsage { get async { await counter.usage } }

    public var model: String { settings.model }

    public func batchSize(atLeast minimum: Int) -> Int { settings.batchSize(atLeast: minimum) }

    /// One chat completion of `messages` by the provider's model. With `topLogprobs`, the answer
    /// carries each token's log prob and that many alternatives. Retryable failures are retried;
    /// the error thrown is the last word.
    public func chat(
        _ messages: [ChatMessage], temperature: Double, maxTokens: Int, seed: UInt64? = nil, topLogprobs: Int? = nil
    ) async throws -> ChatCompletion {
        let request = ChatCompletionRequest(
            model: settings.model, messages: messages, temperature: temperature, maxTokens: maxTokens, seed: seed,
            logprobs: topLogprobs != nil, topLogprobs: topLogprobs)
        let body = try request.body()
        let data = try await call(
            path: "/chat/completions", body: body, estimatedTokens: body.count / 4 + request.maxTokens
        ) {
            _ = try ChatCompletion.parse($0)
        }
        return try ChatCompletion.parse(data)
    }

    /// POSTs `body` to `path` on one of the endpoints until a 2xx body passes `validate`. With
    /// `root`, `path` is taken from the server's root (`/tokenize`), not from the base URL
    /// (`.../v1`); `cacheTag` is part of the cache key beside the body.
    func call(
        path: String, body: Data, estimatedTokens: Int, root: Bool = false, cacheTag: String? = nil,
        validate: (Data) throws -> Void
    ) async throws -> Data {
        await counter.update { $0.calls += 1 }
        let key = cacheTag.map { Data("\($0)\u{1F}".utf8) + body } ?? body
        if let cached = cache?.load(key), (try? validate(cached)) != nil {
            await counter.update { $0.cacheHits += 1 }
            return cached
        }
        let attempts = max(1, settings.retry.attempts)
        var lastFailure = "none"
        for attempt in 1...attempts {
            await limiter.admit(tokens: estimatedTokens)
            await semaphore.acquire()
            // The budget is checked when the request may go, not when it was queued: every item
            // of a batch is queued at once, and one waiting for a slot must see what the requests
            // before it spent.
            do {
                try ledger?.check()
            } catch {
                await semaphore.release()
                throw error
            }
            let index = await pool.acquire()
            let endpoint = await pool.url(index)
            let base = root ? Self.serverRoot(of: endpoint) : endpoint
            await counter.update {
                $0.attempts += 1
                $0.perEndpoint[endpoint, default: 0] += 1
            }
            let outcome = await exchange(base: base, path: path, body: body, validate: validate)
            // Only a retryable failure counts against the endpoint.
            if case .retry = outcome {
                await pool.release(index, succeeded: false)
            } else {
                await pool.release(index, succeeded: true)
            }
            await semaphore.release()
            switch outcome {
            case .answer(let data):
                try await account(data)
                cache?.store(key, data)
                return data
            case .fatal(let error):
                await counter.update { $0.failedCalls += 1 }
                throw error
            case .cancelled:
                throw CancellationError()
            case .retry(let cause, let failure, let retryAfter):
                lastFailure = failure
                await counter.update { $0.retriedBy[cause, default: 0] += 1 }
                if attempt < attempts {
                    try await settings.retry.wait(afterAttempt: attempt, retryAfter: retryAfter)
                }
            }
        }
        await counter.update { $0.failedCalls += 1 }
        throw ProviderError.exhausted(attempts: attempts, last: lastFailure)
    }

    /// How one HTTP attempt ended.
    private enum Outcome {
        case answer(Data)
        /// Not worth retrying: 401/403 or another 4xx.
        case fatal(ProviderError)
        case cancelled
        /// Worth retrying: `cause` names it for the usage counts.
        case retry(cause: String, failure: String, retryAfter: Double?)
    }

    /// One request to one endpoint, classified.
    private func exchange(base: String, path: String, body: Data, validate: (Data) throws -> Void) async -> Outcome {
        do {
            let (status, headers, data) = try await send(url: base + path, body: body)
            switch status {
            case 200..<300:
                do {
                    try validate(data)
                    return .answer(data)
                } catch {
                    return .retry(
                        cause: "malformed", failure: "malformed response from \(base): \(scrub(describe(error)))",
                        retryAfter: nil)
                }
            case 401, 403:
                return .fatal(.unauthorized(status: status, keyVariable: settings.apiKeyEnv, endpoint: base))
            case 408, 429, 500...599:
                return .retry(
                    cause: "\(status)", failure: "HTTP \(status) from \(base): \(scrub(excerpt(data)))",
                    retryAfter: headers.first(name: "Retry-After").flatMap(Self.parseRetryAfter))
            default:
                return .fatal(.rejected(status: status, endpoint: base, detail: scrub(excerpt(data))))
            }
        } catch is CancellationError {
            return .cancelled
        } catch let error where Self.isTimeout(error) {
            return .retry(
                cause: "timeout", failure: "no answer from \(base) within \(settings.retry.timeoutSeconds) s",
                retryAfter: nil)
        } catch {
            return .retry(cause: "connection", failure: "\(base): \(scrub(describe(error)))", retryAfter: nil)
        }
    }

    /// The server's root: the base URL without a trailing `/v1` (vLLM serves `/tokenize` there).
    static func serverRoot(of base: String) -> String {
        base.hasSuffix("/v1") ? String(base.dropLast(3)) : base
    }

    struct Timeout: Error {
        var seconds: Double
    }

    static func isTimeout(_ error: any Error) -> Bool {
        if error is Timeout { return true }
        guard let error = error as? HTTPClientError else { return false }
        return [.deadlineExceeded, .readTimeout, .connectTimeout, .writeTimeout].contains(error)
    }

    /// One HTTP attempt, the whole exchange (head and body) bounded by the timeout.
    private func send(url: String, body: Data) async throws -> (Int, HTTPHeaders, Data) {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        if let key { request.headers.add(name: "Authorization", value: "Bearer \(key)") }
        request.body = .bytes(ByteBuffer(bytes: body))
        return try await HTTPFetch.send(request, timeoutSeconds: settings.retry.timeoutSeconds)
    }

    private func account(_ data: Data) async throws {
        let tokens: (Int, Int) = {
            struct Usage: Decodable {
                struct Counts: Decodable {
                    var prompt_tokens: Int?
                    var completion_tokens: Int?
                }
                var usage: Counts?
            }
            let usage = (try? JSONDecoder().decode(Usage.self, from: data))?.usage
            return (usage?.prompt_tokens ?? 0, usage?.completion_tokens ?? 0)
        }()
        let cost =
            (Double(tokens.0) * settings.inputPricePerMillion + Double(tokens.1) * settings.outputPricePerMillion) / 1e6
        await counter.update {
            $0.inputTokens += tokens.0
            $0.outputTokens += tokens.1
            $0.cost += cost
        }
        ledger?.add(cost)
    }

    /// Retry-After as delta seconds or an HTTP date.
    public static func parseRetryAfter(_ value: String) -> Double? {
        if let seconds = Double(value.trimmingCharacters(in: .whitespaces)) { return max(0, seconds) }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        return formatter.date(from: value).map { max(0, $0.timeIntervalSinceNow) }
    }

    private func excerpt(_ data: Data) -> String {
        String(decoding: data.prefix(300), as: UTF8.self).replacingOccurrences(of: "\n", with: " ")
    }

    private func describe(_ error: any Error) -> String {
        (error as? any LocalizedError)?.errorDescription ?? "\(error)"
    }

    /// Removes the key from any text that could reach a log or an error.
    private func scrub(_ text: String) -> String {
        guard let key, !key.isEmpty else { return text }
        return text.replacingOccurrences(of: key, with: "[key]")
    }
}

/// Successful response bodies on disk, named by the sha256 of the request body.
struct ResponseCache: Sendable {
    let directory: URL

    private func url(_ body: Data) -> URL {
        let digest = Checksum.sha256(body)
        return directory.appendingPathComponent(String(digest.prefix(2))).appendingPathComponent(digest + ".json")
    }

    func load(_ body: Data) -> Data? { try? Data(contentsOf: url(body)) }

    /// Written to a temporary name and renamed, without a sync: a cache entry lost to a crash is
    /// asked again, and one that does not parse is not taken (`OpenAIClient.call`). Syncing each of
    /// a large run's hundred thousand answers was a fifth of a hosted run's own time.
    func store(_ body: Data, _ response: Data) {
        let target = url(body)
        let folder = target.deletingLastPathComponent().path
        let temp = folder + "/.\(UUID().uuidString).tmp"
        if access(folder, F_OK) != 0 {
            try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        }
        let fd = open(temp, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { return }
        let written = response.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
        if written != response.count || rename(temp, target.path) != 0 { unlink(temp) }
    }
}
