import CJEInference
import CJEPipeline
import CJEProviders
import CJETestSupport
import Foundation
import Testing

/// Direct mode for every policy, wherever it runs (the fake engine and fake providers; the same
/// over real llama-servers and a vLLM stand-in is `Tests/Integration/hosted-check.sh`): a run
/// with policies on providers makes every value it can, says why the rest are missing, and
/// writes the Direct bundle, the off-policy set only when every policy has log probs.
@Suite("Direct mode: policies on providers")
struct DirectModeTests {
    /// Three prompts; `policies` lines; provider "api" (a chat endpoint) and "tf" (a vLLM one).
    static func yaml(_ policies: String, failureRate: Double = 0.5, extra: String = "") -> String {
        """
        n: 3
        seed: 5
        max_failure_rate: \(failureRate)
        providers:
          api: {base_urls: ["http://fake.invalid/v1"], model: hosted-7b, api_key_env: none}
          tf: {base_urls: ["http://fake.invalid/v1"], model: served-7b, api_key_env: none, teacher_forcing: vllm}
        policies:
        \(policies)
        oracle: {fraction: 0.5}
        \(extra)
        """
    }

    static let hostedPolicies = """
          - {name: p0, provider: api, system_prompt: "You are a helpful assistant.", temperature: 0.7, max_tokens: 32}
          - {name: clone, provider: api, system_prompt: "You are a helpful assistant.", temperature: 0.7, max_tokens: 32}
          - {name: bad, provider: api, system_prompt: "You are an unhelpful assistant.", temperature: 0.7, max_tokens: 32}
        """

    /// A writer: a short answer naming the prompt, with usage, a model id and a fingerprint.
    static func writer(_ call: FakeProvider.Call) throws -> ChatCompletion {
        ChatCompletion(
            text: "About \(call.user.prefix(12)): \(call.seed ?? 0 % 97)", finishReason: "stop", promptTokens: 20,
            completionTokens: 6, model: "hosted-7b-2026", systemFingerprint: "fp_1")
    }

    static func run(_ name: String, yaml: String, providers: [String: any ChatProvider]) throws -> (FakeRun, Pipeline) {
        let run = try FakeRun(name, yaml: yaml)
        let pipeline = try run.pipeline { settings in
            settings.providerFactory = { name, _, _, _ in
                guard let provider = providers[name] else { throw PipelineError.unknownProvider(name) }
                return provider
            }
        }
        return (run, pipeline)
    }

    @Test("every policy hosted: the whole run completes Direct mode only, says why everywhere, a re-run calls nobody")
    func fullyHosted() async throws {
        let api = FakeProvider(model: "hosted-7b", respond: Self.writer)
        let (run, pipeline) = try Self.run(
            "direct-hosted", yaml: Self.yaml(Self.hostedPolicies), providers: ["api": api])
        try await pipeline.execute()

        // Responses carry their provenance.
        let responses = try run.decode(ResponsesRecord.self, run.run.responses)
        for record in responses {
            let p0 = try #require(record.responses["p0"])
            #expect(p0.provider == "api" && p0.servedModel == "hosted-7b-2026" && p0.systemFingerprint == "fp_1")
            #expect(p0.usage == ResponseRecord.TokenUsage(promptTokens: 20, completionTokens: 6))
            #expect(p0.tokenIds == nil && p0.sampledLogprob == nil && p0.finishReason == .stop)
        }
        // No log prob anywhere, each with why, and none counted as a failure.
        let logprobs = try run.decode(LogprobsRecord.self, run.run.logprobs)
        for record in logprobs {
            #expect(record.logprobs.values.allSatisfy { $0 == nil } && record.errors.isEmpty)
            #expect(record.unavailable?["bad"]?.contains("provider 'api' declares no teacher_forcing") == true)
        }
        let manifest = try run.manifest()
        #expect(manifest.stages["logprobs"]?.total == 0 && manifest.stages["logprobs"]?.failed == 0)
        #expect(manifest.servedModels == ["api": "hosted-7b-2026"])
        // The Direct bundle, without the off-policy set; the sentence in every place that reads it.
        #expect(!FileManager.default.fileExists(atPath: run.run.cjeDataset.path))
        for policy in ["p0", "clone", "bad"] {
            #expect(try run.decode(JSONValue.self, run.run.freshDraws(policy)).count == 3)
        }
        let design = try String(contentsOf: run.run.labelDesign, encoding: .utf8)
        let info = try String(contentsOf: run.run.datasetInfo, encoding: .utf8)
        for text in [design, info] {
            #expect(text.contains("\"direct_only\"") && text.contains("'p0', 'clone', 'bad' on provider 'api'"))
        }
        #expect(info.contains("\"passed\" : true") && info.contains("\"no_weights\""))
        #expect(run.lines.all.contains { $0.hasPrefix("export: Direct mode only:") })
        let page = try String(contentsOf: try ReportPage.write(run.run), encoding: .utf8)
        #expect(page.contains("id=\"direct\"") && page.contains("Direct mode only"))
        #expect(!page.contains("id=\"weights\"") && !page.contains("id=\"estimates\""))

        // Published: the stored config (which keeps no endpoint) reads back; no off-policy config.
        let out = temporaryDirectory("direct-hosted-out").appendingPathComponent("set")
        let files = try DatasetFolder(run: run.run).write(to: out)
        #expect(files.contains("data/responses.jsonl") && !files.contains("data/logged.jsonl"))
        let card = try String(contentsOf: out.appendingPathComponent("README.md"), encoding: .utf8)
        #expect(card.contains("Direct mode only: 'p0', 'clone', 'bad' on provider 'api'"))

        let before = try run.outputs()
        let again = FakeProvider(model: "hosted-7b", respond: Self.writer)
        let second = try run.pipeline { settings in settings.providerFactory = { _, _, _, _ in again } }
        try await second.execute()
        let after = try run.outputs()
        #expect(again.calls.isEmpty && after == before)
    }

    @Test("mixed: local policies keep their log probs and the off-policy weights; the hosted one says why it has none")
    func mixed() async throws {
        let api = FakeProvider(model: "hosted-7b", respond: Self.writer)
        let policies = """
              - {name: p0, system_prompt: "You are a helpful assistant.", temperature: 0.5, max_tokens: 32}
              - {name: pi_clone, system_prompt: "You are a helpful assistant.", temperature: 0.5, max_tokens: 32}
              - {name: hosted, provider: api, system_prompt: "You are a helpful assistant.", temperature: 0.5, max_tokens: 32}
            """
        let (run, pipeline) = try Self.run("direct-mixed", yaml: Self.yaml(policies), providers: ["api": api])
        try await pipeline.execute()
        for record in try run.decode(LogprobsRecord.self, run.run.logprobs) {
            #expect((record.logprobs["p0"] ?? nil) != nil && record.logprobs["pi_clone"] == record.logprobs["p0"])
            #expect(record.logprobMethods == ["p0": "local", "pi_clone": "local"])
            #expect((record.logprobs["hosted"] ?? nil) == nil && record.unavailable?["hosted"] != nil)
        }
        // The hosted policy is not a clone of p0, however alike its settings: its values never shared.
        #expect(!FileManager.default.fileExists(atPath: run.run.cjeDataset.path))
        let info = try String(contentsOf: run.run.datasetInfo, encoding: .utf8)
        #expect(info.contains("'hosted' on provider 'api'") && info.contains("\"determinism_audit_pairs\" : 6"))
    }

    @Test("logprobs: off runs a local config Direct mode only: nothing teacher-forced, the audit still regenerates")
    func off() async throws {
        let run = try FakeRun("direct-off", yaml: FakeRun.yaml + "\nlogprobs: off\n")
        try await run.execute()
        #expect(run.journalLines("logprobs").isEmpty)
        #expect(!FileManager.default.fileExists(atPath: run.run.cjeDataset.path))
        let info = try String(contentsOf: run.run.datasetInfo, encoding: .utf8)
        #expect(info.contains("`logprobs: off` in the config") && info.contains("\"regenerated\" : 10"))
    }

    @Test("teacher forcing over token ids: the endpoint's values equal the engine's; a clone's noise is measured")
    func overTokenIds() async throws {
        let chat = FakeProvider(model: "served-7b", respond: Self.writer)
        let tf = FakeForcingProvider(base: chat, servedModel: "hosted-7b-2026")
        let policies = """
              - {name: p0, system_prompt: "You are a helpful assistant.", temperature: 1, max_tokens: 32}
              - {name: p0_served, provider: tf, system_prompt: "You are a helpful assistant.", temperature: 1, max_tokens: 32}
              - {name: clone_served, provider: tf, system_prompt: "You are a helpful assistant.", temperature: 1, max_tokens: 32}
            """
        let (run, pipeline) = try Self.run("direct-tf", yaml: Self.yaml(policies), providers: ["tf": tf])
        try await pipeline.execute()
        for record in try run.decode(LogprobsRecord.self, run.run.logprobs) {
            let local = try #require(record.logprobs["p0"] ?? nil)
            #expect(record.logprobs["p0_served"] == local && record.logprobs["clone_served"] == local)
            #expect(record.logprobMethods?["p0_served"] == "vllm" && record.logprobMethods?["p0"] == "local")
        }
        // Every policy has log probs: the off-policy set is written; two served values per prompt.
        #expect(FileManager.default.fileExists(atPath: run.run.cjeDataset.path))
        #expect(tf.forcedCalls == 6)
        let info = try String(contentsOf: run.run.datasetInfo, encoding: .utf8)
        #expect(!info.contains("direct_only"))
    }

    @Test(
        "temperature_probe: an endpoint that applies T gives the engine's values at 0.7; one that ignores it stops the run",
        arguments: [true, false])
    func temperatureProbe(applies: Bool) async throws {
        let tf = FakeForcingProvider(
            base: FakeProvider(model: "served-7b", respond: Self.writer), appliesTemperature: applies,
            servedModel: "hosted-7b-2026")
        let policies = """
              - {name: p0, system_prompt: "You are a helpful assistant.", temperature: 0.7, max_tokens: 32}
              - {name: served, provider: tf, system_prompt: "You are a helpful assistant.", temperature: 0.7, max_tokens: 32}
            """
        let yaml = Self.yaml(policies).replacingOccurrences(
            of: "teacher_forcing: vllm}", with: "teacher_forcing: vllm, temperature_probe: true}")
        let (run, pipeline) = try Self.run("direct-probe", yaml: yaml, providers: ["tf": tf])
        guard applies else {
            await #expect {
                try await pipeline.execute(through: .logprobs)
            } throws: { error in
                error.localizedDescription.contains(
                    "provider 'tf' (temperature_probe: true) gave the same log probs at 0.7")
            }
            #expect(run.journalLines("logprobs").isEmpty)
            return
        }
        try await pipeline.execute(through: .logprobs)
        for record in try run.decode(LogprobsRecord.self, run.run.logprobs) {
            let local = try #require(record.logprobs["p0"] ?? nil)
            #expect(record.logprobs["served"] == local)
        }
    }

    @Test(
        "an endpoint that echoes other ids, or returns no prompt log probs, fails the item with why; never a number",
        arguments: [(true, false, "scored other token ids"), (false, true, "returned no prompt log prob")])
    func endpointFaults(echoOther: Bool, withoutLogprobs: Bool, message: String) async throws {
        let tf = FakeForcingProvider(
            base: FakeProvider(model: "served-7b", respond: Self.writer), echoOther: echoOther,
            withoutLogprobs: withoutLogprobs, servedModel: "hosted-7b-2026")
        let policies = """
              - {name: p0, system_prompt: "You are a helpful assistant.", temperature: 1, max_tokens: 32}
              - {name: served, provider: tf, system_prompt: "Be brief.", temperature: 1, max_tokens: 32}
            """
        let (run, pipeline) = try Self.run(
            "direct-tf-fault", yaml: Self.yaml(policies, failureRate: 1.0), providers: ["tf": tf])
        try await pipeline.execute(through: .logprobs)
        for record in try run.decode(LogprobsRecord.self, run.run.logprobs) {
            #expect((record.logprobs["served"] ?? nil) == nil && record.errors["served"]?.contains(message) == true)
            #expect((record.logprobs["p0"] ?? nil) != nil)
        }
        // A wrong echo would come again the same way (permanent); missing log probs are retried.
        let journaled = run.journalLines("logprobs").count
        try await pipeline.execute(through: .logprobs)
        #expect((run.journalLines("logprobs").count > journaled) == withoutLogprobs)
    }

    @Test("a provider that answers with another model id on resume stops the run, naming it; nothing is lost")
    func servedModelChanges() async throws {
        let first = FakeProvider(model: "hosted-7b", respond: Self.writer)
        let yaml = Self.yaml(Self.hostedPolicies, extra: "max_attempts: 5")
        var (run, pipeline) = try Self.run("direct-model-change", yaml: yaml, providers: ["api": first])
        try await pipeline.execute(through: .generate)
        // One more prompt: the endpoint now serves another model.
        run.config.n = 4
        let second = FakeProvider(model: "hosted-7b") { call in
            var answer = try Self.writer(call)
            answer.model = "hosted-8b-2027"
            return answer
        }
        pipeline = try run.pipeline { $0.providerFactory = { _, _, _, _ in second } }
        let responses = try Data(contentsOf: run.run.responses)
        await #expect {
            try await pipeline.execute(through: .generate)
        } throws: { error in
            let text = error.localizedDescription
            return text.contains("provider 'api' now answers with model 'hosted-8b-2027'")
                && text.contains("'hosted-7b-2026'")
        }
        #expect(try Data(contentsOf: run.run.responses) == responses)
        #expect(run.journalLines("generate").count == 9)
    }
}

/// Any JSON value, to count a file's lines.
struct JSONValue: Decodable {
    init(from decoder: any Decoder) throws {}
}
