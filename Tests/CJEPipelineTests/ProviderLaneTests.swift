import CJEInference
import CJEPipeline
import CJEProviders
import CJETestSupport
import Foundation
import Testing

/// The provider lanes on a fake provider (the real client over real llama-servers is
/// `ProviderPipelineTests`): the judge and the oracle on a provider, a refused key, the budget,
/// failures retried on the next run, the provider rubric scorer's methods.
@Suite("Provider lanes on a fake provider")
struct ProviderLaneTests {
    /// Three prompts, three local policies on the fake engine; judge and oracle on provider "srv".
    static func yaml(judge: String = "{provider: srv, uncertainty: samples, samples: 3}", extra: String = "") -> String
    {
        """
        n: 3
        seed: 5
        max_failure_rate: 1.0
        policies:
          - {name: p0, system_prompt: "You are a helpful assistant.", max_tokens: 32}
          - {name: pi_clone, system_prompt: "You are a helpful assistant.", max_tokens: 32}
          - {name: pi_bad, system_prompt: "You are an unhelpful assistant.", max_tokens: 32}
        providers:
          srv: {base_urls: ["http://fake.invalid/v1"], model: fake-judge, api_key_env: none}
        judge: \(judge)
        oracle: {provider: srv, fraction: 0.5, uncertainty: samples, samples: 3}
        \(extra)
        """
    }

    /// A grader: "Score: 7" at temperature 0; at temperature 1 a score from the call's seed.
    static func grader(_ call: FakeProvider.Call) throws -> ChatCompletion {
        let score = call.temperature == 0 ? 7 : Int((call.seed ?? 0) % 11)
        return ChatCompletion(text: "Score: \(score)", promptTokens: 100, completionTokens: 3)
    }

    /// A run on the fake engine whose provider "srv" is `provider`.
    static func run(_ name: String, _ provider: FakeProvider, yaml: String = yaml()) throws -> (FakeRun, Pipeline) {
        let run = try FakeRun(name, yaml: yaml)
        let pipeline = try run.pipeline { $0.providerFactory = { _, _, _, ledger in provider.charging(ledger) } }
        return (run, pipeline)
    }

    @Test("judge and oracle on a provider: every item judged, usage in the manifest, a re-run calls nobody")
    func judgeAndOracle() async throws {
        let provider = FakeProvider(respond: Self.grader)
        let (run, pipeline) = try Self.run("lanes-judge", provider)
        try await pipeline.execute()
        let records =
            try run.decode(ScoredRecord.self, run.run.scored(.p0, .deterministic))
            + run.decode(ScoredRecord.self, run.run.scored(.targets, .deterministic))
        #expect(records.count == 9 && records.allSatisfy { $0.judgeScore == 0.7 })
        // 9 judged items and 1 + 2 labelled ones (half of 3 prompts, then of 6 target responses),
        // each one greedy answer and three samples.
        let manifest = try run.manifest()
        let judged = try #require(manifest.stages["judge"]?.usage?["srv"]?.calls)
        #expect(judged == 9 * 4)
        #expect(provider.calls.count > judged)
        #expect(provider.calls.filter { $0.temperature == 1 }.allSatisfy { $0.seed != nil })

        let again = FakeProvider(respond: Self.grader)
        let second = try run.pipeline { $0.providerFactory = { _, _, _, ledger in again.charging(ledger) } }
        let before = try run.outputs()
        try await second.execute()
        #expect(again.calls.isEmpty, "everything was journaled")
        #expect(try run.outputs() == before)
    }

    @Test("a refused key stops the run at the judge, naming the key's variable; what came before is kept")
    func unauthorizedStops() async throws {
        let provider = FakeProvider { _ in
            throw ProviderError.unauthorized(
                status: 401, keyVariable: "CJE_TEST_KEY", endpoint: "http://fake.invalid/v1")
        }
        let (run, pipeline) = try Self.run("lanes-401", provider)
        await #expect {
            try await pipeline.execute()
        } throws: { error in
            FailureKind(of: error) == .fatal && error.localizedDescription.contains("CJE_TEST_KEY")
        }
        #expect(provider.calls.count <= 9, "one batch's calls at most (each refused once); the oracle never called")
        #expect(try run.decode(LogprobsRecord.self, run.run.logprobs).count == 3)
        #expect(run.journalLines("judge").isEmpty)
        #expect(try run.manifest().outcome?.completed == false)
    }

    @Test("a budget stops the run cleanly: what was paid for is journaled, and a re-run says the budget is spent")
    func budgetStops() async throws {
        let provider = FakeProvider(costPerCall: 0.01, respond: Self.grader)
        let (run, pipeline) = try Self.run("lanes-budget", provider, yaml: Self.yaml(extra: "budget: 0.1"))
        await #expect(throws: ProviderError.self) { try await pipeline.execute() }
        let spent = try run.manifest().providersOverall.values.reduce(0) { $0 + $1.cost }
        #expect(spent >= 0.1 && spent < 0.1 + 0.01 * Double(2 * 4 + 1))
        #expect(run.journalLines("judge").count >= 2)

        let again = FakeProvider(costPerCall: 0.01, respond: Self.grader)
        let second = try run.pipeline { $0.providerFactory = { _, _, _, ledger in again.charging(ledger) } }
        await #expect {
            try await second.execute()
        } throws: { error in
            error.localizedDescription.contains("budget") && error.localizedDescription.contains("already spent")
        }
        #expect(again.calls.isEmpty)
    }

    @Test("items a provider failed are null with the reason, then retried by the next run: the clean run's files")
    func failuresRetried() async throws {
        let clean = try Self.run("lanes-clean", FakeProvider(respond: Self.grader))
        try await clean.1.execute()

        // In the first run, the first greedy call for each text that mentions "b" fails after the
        // client's retries.
        let failed = LockedValue<Set<String>>([])
        let armed = LockedValue(true)
        let flaky = FakeProvider { call in
            let text = call.user
            if armed.current, call.temperature == 0, text.contains("b"), failed.access({ $0.insert(text).inserted }) {
                throw ProviderError.exhausted(attempts: 8, last: "503 from http://fake.invalid/v1")
            }
            return try Self.grader(call)
        }
        let (run, pipeline) = try Self.run("lanes-flaky", flaky)
        try await pipeline.execute(through: .judge)
        let first = try #require(try run.manifest().stages["judge"])
        #expect(first.failed > 0)
        let nulls = try run.decode(ScoredRecord.self, run.run.scored(.targets, .deterministic)).filter {
            $0.judgeScore == nil
        }
        #expect(nulls.allSatisfy { $0.error?.contains("503") == true })

        armed.update { $0 = false }
        try await pipeline.execute()
        #expect(try run.manifest().stages["judge"]?.failed == 0)
        let (outputs, expected) = (try run.outputs(), try clean.0.outputs())
        #expect(outputs == expected, "differ: \(expected.keys.filter { outputs[$0] != expected[$0] }.sorted())")
    }

    @Test(
        "the provider rubric scorer: top log probs, a stated interval and samples give a distribution or a reason",
        arguments: ["top_logprobs", "confidence_interval", "samples"])
    func rubricMethods(method: String) async throws {
        let provider = FakeProvider { call in
            if call.topLogprobs != nil {
                let top = [("7", -0.2), ("8", -2.0), ("6", -2.5)].map {
                    ChatCompletion.TopToken(token: $0, logprob: $1)
                }
                return ChatCompletion(
                    text: "Score: 7",
                    logprobs: [
                        ChatCompletion.TokenLogprob(token: "Score", logprob: 0, topLogprobs: []),
                        ChatCompletion.TokenLogprob(token: ":", logprob: 0, topLogprobs: []),
                        ChatCompletion.TokenLogprob(token: " 7", logprob: -0.2, topLogprobs: top),
                    ])
            }
            if call.messages.contains(where: { $0.content.contains("[") }), call.temperature == 0 {
                return ChatCompletion(text: "Score: 7 [5, 9]")
            }
            return try Self.grader(call)
        }
        let (run, pipeline) = try Self.run(
            "lanes-\(method)", provider,
            yaml: Self.yaml(judge: "{provider: srv, uncertainty: \(method), samples: 3}"))
        try await pipeline.execute(through: .judge)
        let records = try run.decode(ScoredRecord.self, run.run.scored(.p0, .uncertainty))
        #expect(records.count == 3 && records.allSatisfy { $0.judgeMethod.rawValue == method })
        for record in records {
            let score = try #require(record.judgeScore, "\(method): \(record.error ?? "")")
            #expect((0...1).contains(score) && (record.judgeScoreVariance ?? -1) >= 0)
        }
    }
}
