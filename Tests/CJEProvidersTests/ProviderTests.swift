import CJEInference
import Foundation
import Testing

import CJEProviders
import CJETestSupport

@Suite("OpenAI-compatible provider against a real llama-server", .serialized, .needsRealModel)
struct ProviderTests {
    /// A server of its own: the pipeline suite's judge load would push these 3-s timeouts over.
    static let serverIndex = 2

    static let prompts = [
        "What is the capital of France?", "Name a primary colour.", "What is 2 + 2?", "Say hello in Spanish.",
    ]

    /// One short answer at temperature 0 (the client sends its settings' model, "smollm2").
    static func ask(_ client: OpenAIClient, _ prompt: String, logprobs: Bool = false) async throws -> ChatCompletion {
        try await client.chat(
            [.system("Answer in one short sentence."), .user(prompt)], temperature: 0, maxTokens: 12, seed: 1,
            topLogprobs: logprobs ? 5 : nil)
    }

    static func settings(_ urls: [String]) -> ProviderSettings {
        var settings = ProviderSettings(baseURLs: urls.map { $0 + "/v1" }, model: "smollm2", apiKeyEnv: nil)
        settings.retry = RetryPolicy(
            attempts: 8, timeoutSeconds: 3, initialBackoffSeconds: 0.05, maxBackoffSeconds: 0.2)
        settings.maxConcurrent = 2
        return settings
    }

    /// The server, and its clean answers to `prompts` (straight, no proxy).
    static func server() async throws -> (url: String, clean: [ChatCompletion]) {
        let server = try await Peers.shared.llamaServer(Self.serverIndex)
        let client = try OpenAIClient(settings: settings([server.baseURL]))
        var clean: [ChatCompletion] = []
        for prompt in prompts { clean.append(try await Self.ask(client, prompt)) }
        return (server.baseURL, clean)
    }

    @Test("a chat completion: text, usage, and the top log probs of every answer token")
    func chatWithLogprobs() async throws {
        let server = try await Peers.shared.llamaServer(Self.serverIndex)
        let client = try OpenAIClient(settings: Self.settings([server.baseURL]))
        let completion = try await Self.ask(client, "What is 2 + 2?", logprobs: true)
        #expect(!completion.text.isEmpty && completion.promptTokens > 0 && completion.completionTokens > 0)
        let logprobs = try #require(completion.logprobs)
        #expect(logprobs.count == completion.completionTokens || completion.finishReason == "stop")
        for entry in logprobs {
            #expect(entry.logprob <= 0 && entry.topLogprobs.count == 5)
            #expect(entry.topLogprobs.allSatisfy { $0.logprob <= 0 })
        }
        #expect(logprobs.map(\.token).joined() == completion.text)
        let usage = await client.usage
        #expect(usage.calls == 1 && usage.attempts == 1 && usage.inputTokens == completion.promptTokens)
    }

    @Test("429, 500, a stall, a reset and a malformed body are retried: the same answers, none lost or doubled")
    func faultsAreRetried() async throws {
        let (upstream, clean) = try await Self.server()
        let proxy = try FaultProxy(
            upstream: upstream, faults: ["429", "500", "stall", "reset", "malformed"])
        let client = try OpenAIClient(settings: Self.settings([proxy.baseURL]))
        let answers = try await withThrowingTaskGroup(of: (Int, ChatCompletion).self) { group in
            for (k, prompt) in Self.prompts.enumerated() {
                group.addTask { (k, try await Self.ask(client, prompt)) }
            }
            var out: [Int: ChatCompletion] = [:]
            for try await (k, answer) in group { out[k] = answer }
            return Self.prompts.indices.map { out[$0]! }
        }
        #expect(answers.map(\.text) == clean.map(\.text))
        let usage = await client.usage
        let stats = try await proxy.stats()
        #expect(stats.faults == ["429": 1, "500": 1, "stall": 1, "reset": 1, "malformed": 1])
        #expect(usage.calls == 4 && usage.failedCalls == 0)
        #expect(usage.attempts == stats.requests && usage.attempts == 4 + 5)
        #expect(usage.retriedBy == ["429": 1, "500": 1, "timeout": 1, "connection": 1, "malformed": 1])
    }

    @Test("401 stops at once with a message naming the key's variable, never the key")
    func unauthorized() async throws {
        let proxy = try FaultProxy(upstream: try await Self.server().url, faults: ["401"])
        var settings = Self.settings([proxy.baseURL])
        settings.apiKeyEnv = "CJE_TEST_KEY"
        let client = try OpenAIClient(settings: settings, environment: ["CJE_TEST_KEY": "sk-very-secret-4242"])
        await #expect {
            _ = try await Self.ask(client, "Hi")
        } throws: { error in
            guard let error = error as? ProviderError, case .unauthorized(401, "CJE_TEST_KEY", _) = error else {
                return false
            }
            let text = error.localizedDescription
            return error.failureKind == .fatal && text.contains("$CJE_TEST_KEY") && !text.contains("sk-very-secret")
        }
        #expect(await client.usage.attempts == 1)
    }

    @Test("a key variable that is not set is an error naming it")
    func missingKey() {
        var settings = Self.settings(["http://127.0.0.1:9"])
        settings.apiKeyEnv = "CJE_TEST_UNSET_KEY"
        #expect(throws: ProviderError.missingKey(variable: "CJE_TEST_UNSET_KEY")) {
            try OpenAIClient(settings: settings, environment: [:])
        }
    }

    @Test("two base URLs, one dead: the dead one rests after failing, every call is answered")
    func deadEndpointRests() async throws {
        let (live, clean) = try await Self.server()
        let dead = "http://127.0.0.1:\(try freePort())"
        var settings = Self.settings([dead, live])
        settings.failuresBeforeRest = 1
        settings.restSeconds = 600
        let client = try OpenAIClient(settings: settings)
        var texts: [String] = []
        for prompt in Self.prompts { texts.append(try await Self.ask(client, prompt).text) }
        #expect(texts == clean.map(\.text))
        let usage = await client.usage
        // Refused at once, or (when the HTTP client keeps trying to connect) out of time.
        #expect(usage.perEndpoint[dead + "/v1"] == 1 && usage.retries == 1, "\(usage)")
        #expect(Set(usage.retriedBy.keys).isSubset(of: ["connection", "timeout"]))
    }

    @Test("a repeated request is answered from the disk cache, without a request")
    func cache() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("cache-\(UUID().uuidString)")
        let first = try OpenAIClient(settings: Self.settings([try await Self.server().url]), cacheDirectory: directory)
        let answer = try await Self.ask(first, "Name a primary colour.")
        let second = try OpenAIClient(settings: Self.settings(["http://127.0.0.1:9"]), cacheDirectory: directory)
        #expect(try await Self.ask(second, "Name a primary colour.") == answer)
        let usage = await second.usage
        #expect(usage.cacheHits == 1 && usage.attempts == 0)
    }

    @Test("Retry-After as seconds or as an HTTP date")
    func retryAfter() {
        #expect(OpenAIClient.parseRetryAfter("3") == 3)
        #expect(OpenAIClient.parseRetryAfter("Wed, 21 Oct 2015 07:28:00 GMT") == 0)
        #expect(OpenAIClient.parseRetryAfter("soon") == nil)
    }
}
