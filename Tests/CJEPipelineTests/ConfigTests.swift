import CJEPipeline
import Foundation
import Testing

@Suite("Config")
struct ConfigTests {
    @Test("an empty file and the commented default both give the built-in default")
    func defaults() throws {
        #expect(try PipelineConfig.parse("", path: "c.yaml") == .default)
        #expect(try PipelineConfig.parse(PipelineConfig.commentedDefault, path: "c.yaml") == .default)
        let names = PipelineConfig.default.policies.map(\.name)
        #expect(names == ["p0", "pi_clone", "pi_bad"])
        #expect(PipelineConfig.default.logging.temperature == 0.5)
    }

    @Test("a partial file keeps the defaults of what it leaves out")
    func partial() throws {
        let config = try PipelineConfig.parse("n: 5\nengine:\n  threads: 1\n", path: "c.yaml")
        #expect(config.n == 5 && config.engine.threads == 1)
        #expect(config.policies == PipelineConfig.default.policies)
    }

    static let provider = "providers:\n  api:\n    base_url: http://127.0.0.1:9/v1\n    model: m\n"

    @Test("providers: defaults, one or several base URLs, and a fingerprint that ignores where they run")
    func providers() throws {
        let text = """
            providers:
              api:
                base_url: https://api.example.com/v1
                model: big-judge
                api_key_env: EXAMPLE_KEY
            judge:
              provider: api
            oracle:
              provider: api
              uncertainty: samples
              samples: 4
            budget: 2.5
            """
        let config = try PipelineConfig.parse(text, path: "c.yaml")
        let api = try #require(config.providers["api"])
        #expect(api.settings.baseURLs == ["https://api.example.com/v1"] && api.settings.apiKeyEnv == "EXAMPLE_KEY")
        #expect(api.settings.maxConcurrent == 4 && api.topLogprobs == 20 && !api.prefill)
        #expect(config.judge.deterministic == .greedy && config.judge.uncertainty == .topLogprobs)
        #expect(config.oracle.uncertainty == .samples && config.oracle.samples == 4 && config.budget == 2.5)
        #expect(
            PipelineConfig.default.judge.deterministic == .argmax && PipelineConfig.default.judge.uncertainty == nil)

        var moved = config
        moved.providers["api"]!.settings.baseURLs = ["http://10.0.0.1/v1", "http://10.0.0.2/v1"]
        moved.providers["api"]!.settings.maxConcurrent = 64
        moved.providers["api"]!.settings.inputPricePerMillion = 3
        moved.budget = 100
        #expect(try RunFingerprint.configText(of: moved) == RunFingerprint.configText(of: config))
        var other = config
        other.providers["api"]!.settings.model = "another-judge"
        #expect(try RunFingerprint.configText(of: other) != RunFingerprint.configText(of: config))
        // A config without providers fingerprints as it did before providers existed.
        #expect(try !RunFingerprint.configText(of: .default).contains("provider"))
    }

    @Test("a provider policy runs Direct mode only under auto; `required` refuses it at load, naming the policy")
    func providerPolicyLogprobs() throws {
        let policies = """
            policies:
              - {name: p0, system_prompt: hi}
              - {name: pi_api, system_prompt: hi, provider: api, temperature: 1}
            """
        let config = try PipelineConfig.parse(Self.provider + policies, path: "c.yaml")
        #expect(config.logprobs == .auto && LogprobsStage.refusal(config) == nil)
        #expect(Pipeline.refusal(config, through: .validate) == nil)
        #expect(config.logprobSource(of: config.policies[0]) == .local(model: "default"))
        #expect(!config.hasOffPolicySet && config.directOnly?.contains("'pi_api' on provider 'api'") == true)
        #expect(throws: ConfigError.self) {
            try PipelineConfig.parse(Self.provider + policies + "\nlogprobs: required\n", path: "c.yaml")
        }
        do {
            _ = try PipelineConfig.parse(Self.provider + policies + "\nlogprobs: required\n", path: "c.yaml")
        } catch {
            let text = error.localizedDescription
            #expect(
                text.contains("c.yaml") && text.contains("'logprobs'") && text.contains("'pi_api' (provider 'api')"))
        }
        // Made in code (no file to name), the run refuses it before anything is written.
        var required = config
        required.logprobs = .required
        #expect(Pipeline.refusal(required, through: .validate)?.contains("'pi_api'") == true)
        #expect(Pipeline.refusal(required, through: .generate) == nil)
        // off: no policy has log probs, whatever runs it.
        var off = config
        off.logprobs = .off
        #expect(off.directOnly?.contains("`logprobs: off`") == true && !off.hasOffPolicySet)
        // A config that never names the key fingerprints as before the key existed.
        #expect(try !RunFingerprint.configText(of: .default).contains("logprobs"))
    }

    @Test("a run's stored config reads back with its providers, though it keeps no endpoint")
    func storedConfig() throws {
        let text =
            Self.provider + """
                policies:
                  - {name: p0, system_prompt: hi, provider: api, temperature: 1}
                  - {name: pi_local, system_prompt: hi}
                judge: {provider: api}
                oracle: {provider: api, design: paired, fraction: 0.5}
                """
        let config = try PipelineConfig.parse(text, path: "c.yaml")
        let stored = try PipelineConfig.stored(RunFingerprint.configText(of: config))
        #expect(stored.policies.map(\.provider) == ["api", nil] && stored.providers["api"]?.model == "m")
        #expect(stored.judge.provider == "api" && stored.oracle.labeller.provider == "api")
        #expect(try RunFingerprint.configText(of: stored) == RunFingerprint.configText(of: config))
    }

    @Test(
        "teacher forcing over HTTP: a policy at T != 1, an unknown protocol and one cje-prep cannot use are refused",
        arguments: [
            ("teacher_forcing: vllm", "temperature: 0.7", "'policies[1].temperature' is 0.7 for 'pi_api'"),
            (
                "teacher_forcing: vllm", "temperature: 0.7\nlogprobs: required",
                "returns prompt log probs at temperature 1"
            ),
            (
                "teacher_forcing: tgi", "temperature: 1",
                "'providers.api.teacher_forcing' is 'tgi', expected one of vllm"
            ),
            ("teacher_forcing: sglang", "temperature: 1", "no endpoint that renders the chat template into ids"),
            ("temperature_probe: true", "temperature: 1", "'providers.api.temperature_probe' needs teacher_forcing"),
            (
                "teacher_forcing: vllm", "temperature: 1\nlogprobs: sometimes",
                "'logprobs' is 'sometimes', expected one of auto"
            ),
        ])
    func teacherForcingRefusals(key: String, rest: String, message: String) throws {
        let text = """
            providers:
              api: {base_url: "http://127.0.0.1:9/v1", model: m, \(key)}
            policies:
              - {name: p0, system_prompt: hi}
              - {name: pi_api, system_prompt: hi, provider: api, \(rest.split(separator: "\n")[0])}
            \(rest.split(separator: "\n").dropFirst().joined(separator: "\n"))
            """
        #expect {
            try PipelineConfig.parse(text, path: "tf.yaml")
        } throws: { error in
            error.localizedDescription.contains("tf.yaml") && error.localizedDescription.contains(message)
        }
        // A server said to apply the temperature is probed at the run's start instead.
        if key == "teacher_forcing: vllm" && rest == "temperature: 0.7" {
            let probed = text.replacingOccurrences(
                of: "teacher_forcing: vllm}", with: "teacher_forcing: vllm, temperature_probe: true}")
            #expect(try PipelineConfig.parse(probed, path: "tf.yaml").providers["api"]?.temperatureProbe == true)
        }
        // With logprobs off nothing is teacher-forced, so no temperature is refused.
        if key == "teacher_forcing: vllm" && rest == "temperature: 0.7" {
            let config = try PipelineConfig.parse(text + "\nlogprobs: off\n", path: "tf.yaml")
            #expect(config.logprobSource(of: config.policies[1]) == .none(reason: "logprobs: off in the config"))
        }
    }

    @Test(
        "mistakes name the file and the key path",
        arguments: [
            ("sed: 4\n", "unknown key 'sed'"),
            (
                "policies:\n  - name: p0\n    system_prompt: hi\n    temprature: 0.5\n",
                "unknown key 'policies[0].temprature'"
            ),
            ("n: many\n", "'n' should be a whole number"),
            (
                "policies:\n  - name: p0\n    system_prompt: hi\n    temperature: 0\n",
                "'policies[0].temperature' must be > 0"
            ),
            ("policies:\n  - name: p0\n", "'policies[0].system_prompt' is required"),
            ("logging_policy: p9\n", "'logging_policy' 'p9' is not one of the policies"),
            ("models:\n  big: {}\n", "'models.big.path' is required"),
            ("judge:\n  model: nope\n", "'judge.model' names model 'nope'"),
            ("oracle:\n  deterministic: best\n", "'oracle.deterministic' is 'best', expected one of argmax, greedy"),
            ("n: [1\n", "is not valid YAML"),
            (
                "policies:\n  - {name: p0, system_prompt: hi, model: default, provider: api}\n",
                "'policies[0].provider' and 'model' are both set"
            ),
            (
                "policies:\n  - {name: p0, system_prompt: hi, provider: api}\n",
                "'policies[0].provider' names provider 'api'"
            ),
            ("judge:\n  provider: api\n", "'judge.provider' names provider 'api'"),
            (Self.provider + "judge:\n  provider: api\n  deterministic: argmax\n", "'judge.deterministic' is argmax"),
            ("oracle:\n  uncertainty: samples\n", "'oracle.uncertainty' applies to provider judges only"),
            (Self.provider + "judge:\n  provider: api\n  uncertainty: guess\n", "'judge.uncertainty' is 'guess'"),
            ("providers:\n  api:\n    model: m\n", "'providers.api.base_urls' is required"),
            (
                "providers:\n  api:\n    base_url: ftp://x\n    model: m\n",
                "'providers.api.base_urls[0]' must be an http(s) URL"
            ),
            (Self.provider + "budget: 0\n", "'budget' must be a number > 0"),
            (
                "providers:\n  api:\n    base_url: http://h/v1\n    model: m\n    key: sk-1\n",
                "unknown key 'providers.api.key'"
            ),
            ("engine:\n  max_sequences: 300\n", "'engine.max_sequences' must be between 1 and 256 (got 300)"),
            ("engine:\n  max_sequences: 0\n", "'engine.max_sequences' must be between 1 and 256 (got 0)"),
            (
                "engine:\n  sequence_context: 8\n",
                "'engine.sequence_context' must be between 16 and 1048576 tokens (got 8)"
            ),
            ("engine:\n  threads: 0\n", "'engine.threads' must be between 1 and 1024 (got 0)"),
            ("judge:\n  max_tokens: 0\n", "'judge.max_tokens' must be at least 1 (got 0)"),
            ("oracle:\n  max_tokens: -2\n", "'oracle.max_tokens' must be at least 1 (got -2)"),
            (
                "policies:\n  - name: p0\n    system_prompt: hi\n    temperature: 6\n",
                "'policies[0].temperature' must be > 0 and <= 5"
            ),
        ])
    func mistakes(text: String, message: String) throws {
        #expect {
            try PipelineConfig.parse(text, path: "run.yaml")
        } throws: { error in
            let description = error.localizedDescription
            return description.hasPrefix("config run.yaml") && description.contains(message)
        }
    }

    @Test("the oracle has its own max_tokens; a run made when it used the judge's keeps its fingerprint")
    func oracleMaxTokens() throws {
        let config = try PipelineConfig.parse("oracle:\n  max_tokens: 12\n", path: "c.yaml")
        #expect(config.oracle.maxTokens == 12 && config.judge.maxTokens == 8)
        #expect(PipelineConfig.default.oracle.maxTokens == 8)
        // Equal to the judge's (what the oracle used before): not in the fingerprint, as before.
        let oracle = try RunFingerprint.configText(of: .default).components(separatedBy: "\"oracle\":")[1]
        #expect(!oracle.prefix(while: { $0 != "}" }).contains("max_tokens"))
        // A judge with another length: the oracle's own 8 now differs from what it used, so the
        // fingerprint says so and such a run is not resumed under different numbers.
        let longJudge = try PipelineConfig.parse("judge:\n  max_tokens: 16\n", path: "c.yaml")
        let text = try RunFingerprint.configText(of: longJudge).components(separatedBy: "\"oracle\":")[1]
        #expect(text.prefix(while: { $0 != "}" }).contains("\"max_tokens\":8"))
    }
}
