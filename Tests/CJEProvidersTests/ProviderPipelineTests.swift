import CJEInference
import CJELlama
import CJEPipeline
import CJEProviders
import CJETestSupport
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The pipeline with its judge and oracle (and a policy) on real llama-servers over HTTP:
/// the local engine generates and teacher-forces, the servers judge and label.
@Suite("The pipeline on providers (real llama-servers)", .serialized, .needsRealModel)
struct ProviderPipelineTests {
    static let engine: LlamaEngine = try! LlamaEngine(
        model: LlamaModel(path: RealModel.path!), options: LlamaEngineOptions(threads: 2, maxSequences: 4))

    /// Three prompts, three local policies; judge and oracle on the provider "srv".
    static func yaml(urls: [String], key: String = "none", concurrent: Int = 2, extra: String = "") -> String {
        """
        n: 3
        seed: 5
        max_failure_rate: 1.0
        policies:
          - {name: p0, system_prompt: "You are a helpful assistant.", max_tokens: 32}
          - {name: pi_clone, system_prompt: "You are a helpful assistant.", max_tokens: 32}
          - {name: pi_bad, system_prompt: "You are an unhelpful assistant.", max_tokens: 32}
        engine: {threads: 2, max_sequences: 4}
        providers:
          srv:
            base_urls: [\(urls.map { "\"\($0)/v1\"" }.joined(separator: ", "))]
            model: smollm2
            api_key_env: \(key)
            timeout: 15
            max_concurrent: \(concurrent)
            max_attempts: 8
            prefill: true
        judge: {provider: srv}
        oracle: {provider: srv, fraction: 0.5}
        \(extra)
        """
    }

    static func pipeline(_ dir: URL, _ yaml: String, say: @escaping @Sendable (String) -> Void = { _ in }) throws
        -> Pipeline
    {
        let config = try PipelineConfig.parse(yaml, path: "test.yaml")
        let fingerprint = try RunFingerprint(
            config: config, models: ["default": engine.model.info.sha256],
            engine: LlamaEngine.buildIdentity)
        return Pipeline(
            config: config, run: RunDirectory(root: dir), fingerprint: fingerprint, engine: { _ in engine }, say: say)
    }

    /// A run generated and teacher-forced once (where the servers are does not change its
    /// fingerprint); each test judges a copy.
    actor Base {
        static let shared = Base()
        private var dir: URL?

        func url() async throws -> URL {
            if let dir { return dir }
            let made = tempDir("base")
            _ = try await pipeline(made, yaml(urls: ["http://127.0.0.1:9"])).execute(through: .logprobs)
            dir = made
            return made
        }
    }

    static func tempDir(_ name: String) -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("cje-prov-\(name)-\(UUID().uuidString)")
        try! FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    static func copyOfBase(_ name: String) async throws -> URL {
        let base = try await Base.shared.url()
        let dir = tempDir(name)
        try FileManager.default.removeItem(at: dir)
        try FileManager.default.copyItem(at: base, to: dir)
        return dir
    }

    static func manifest(_ dir: URL) throws -> Manifest {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return try decoder.decode(Manifest.self, from: Data(contentsOf: RunDirectory(root: dir).manifest))
    }

    static func judgeOutputs(_ dir: URL) throws -> [String: Data] {
        let run = RunDirectory(root: dir)
        var out: [String: Data] = [:]
        for who in [RunDirectory.ScoredGroup.p0, .targets] {
            for method in RunDirectory.JudgeScore.allCases {
                out["\(who.rawValue)/\(method.rawValue)"] = try Data(contentsOf: run.scored(who, method))
            }
        }
        for task in [OracleTask.Kind.calibration, .validation] {
            out[task.rawValue] = try Data(contentsOf: run.oracleLabels(task))
        }
        return out
    }

    static func lines(_ url: URL) -> Int {
        ((try? String(contentsOf: url, encoding: .utf8)) ?? "").split(separator: "\n").count
    }

    @Test("judge and oracle on two llama-servers: every item judged once, both servers used, a re-run sends nothing")
    func twoServers() async throws {
        let one = try await Peers.shared.llamaServer(0)
        let two = try await Peers.shared.llamaServer(1)
        let dir = try await Self.copyOfBase("two")
        let yaml = Self.yaml(urls: [one.baseURL, two.baseURL])
        let lines = Lines()
        let reports = try await Self.pipeline(dir, yaml, say: { lines.add($0) }).execute(through: .oracle)
        let judge = try #require(reports.first { $0.stage == "judge" })
        #expect(judge.total == 9 && judge.doneNow == 9)

        let manifest = try Self.manifest(dir)
        let usage = try #require(manifest.providers?["srv"])
        // One call per judged item and per label, plus a prefilled follow-up where the answer's
        // "1" must be split from "10".
        #expect(usage.calls >= 9 + 3 && usage.failedCalls == 0 && usage.inputTokens > 0)
        #expect(usage.perEndpoint.count == 2 && usage.perEndpoint.values.allSatisfy { $0 > 0 }, "\(usage)")
        #expect(manifest.stages["judge"]?.usage?["srv"]?.calls ?? 0 >= 9)
        #expect(lines.all.contains { $0.hasPrefix("provider srv: ") && $0.contains("calls") })

        let run = RunDirectory(root: dir)
        let uncertainty =
            try JSONLines.decode(ScoredRecord.self, from: run.scored(.targets, .uncertainty))
            + JSONLines.decode(ScoredRecord.self, from: run.scored(.p0, .uncertainty))
        #expect(uncertainty.count == 9)
        var distributions = 0
        for record in uncertainty {
            #expect(record.judgeMethod.rawValue == "top_logprobs" && record.judgeModel == "smollm2")
            if let score = record.judgeScore, let variance = record.judgeScoreVariance {
                #expect((0...1).contains(score) && variance >= 0)
                distributions += 1
            } else {
                #expect(record.error != nil, "a missing distribution carries its reason")
            }
        }
        #expect(distributions >= 5, "most answers give a distribution (\(distributions) of 9)")
        let deterministic = try JSONLines.decode(ScoredRecord.self, from: run.scored(.targets, .deterministic))
        #expect(
            deterministic.allSatisfy {
                $0.judgeMethod.rawValue == "greedy" && ($0.judgeScore != nil || $0.error != nil)
            })
        #expect(Self.lines(run.journal("judge")) == 9)

        // Everything is journaled: a second invocation sends no request. An item that failed (an
        // answer the rubric cannot parse, e.g. "Score: 15") is asked again, and its answer
        // comes from the run's response cache.
        let before = try Self.judgeOutputs(dir)
        _ = try await Self.pipeline(dir, yaml).execute(through: .oracle)
        let again = try #require(try Self.manifest(dir).providers?["srv"])
        #expect(again.calls - usage.calls == again.cacheHits - usage.cacheHits, "\(again)")
        #expect(again.perEndpoint == usage.perEndpoint && again.inputTokens == usage.inputTokens)
        #expect(try Self.judgeOutputs(dir) == before)
    }

    @Test("429, 500, a stall, a reset and a malformed body in front of the judge: the same records as a clean run")
    func faultsGiveTheSameRecords() async throws {
        let server = try await Peers.shared.llamaServer(0)
        let clean = try await Self.copyOfBase("clean")
        _ = try await Self.pipeline(clean, Self.yaml(urls: [server.baseURL], concurrent: 1)).execute(through: .oracle)
        let cleanCalls = try #require(try Self.manifest(clean).providers?["srv"]).calls

        let proxy = try FaultProxy(upstream: server.baseURL, faults: ["429", "500", "stall", "reset", "malformed"])
        let faulted = try await Self.copyOfBase("faulted")
        let yaml = Self.yaml(urls: [proxy.baseURL], concurrent: 1).replacingOccurrences(
            of: "timeout: 15", with: "timeout: 8")
        _ = try await Self.pipeline(faulted, yaml).execute(through: .oracle)

        #expect(try Self.judgeOutputs(faulted) == Self.judgeOutputs(clean))
        let run = RunDirectory(root: faulted)
        #expect(Self.lines(run.journal("judge")) == 9, "nothing journaled twice")
        let usage = try #require(try Self.manifest(faulted).providers?["srv"])
        let stats = try await proxy.stats()
        #expect(stats.faults == ["429": 1, "500": 1, "stall": 1, "reset": 1, "malformed": 1])
        #expect(usage.calls == cleanCalls && usage.failedCalls == 0)
        #expect(usage.attempts == cleanCalls + 5 && stats.requests == usage.attempts, "\(usage)")
    }

    @Test("a 401 stops the run at the judge, naming the key's variable and never the key; nothing else is lost")
    func unauthorizedStops() async throws {
        let server = try await Peers.shared.llamaServer(0)
        let proxy = try FaultProxy(upstream: server.baseURL, faults: ["401"])
        let dir = try await Self.copyOfBase("401")
        let responses = try Data(contentsOf: RunDirectory(root: dir).responses)
        setenv("CJE_TEST_PIPELINE_KEY", "sk-pipeline-secret-777", 1)
        let pipeline = try Self.pipeline(dir, Self.yaml(urls: [proxy.baseURL], key: "CJE_TEST_PIPELINE_KEY"))
        await #expect {
            _ = try await pipeline.execute(through: .oracle)
        } throws: { error in
            let text = error.localizedDescription
            return text.contains("$CJE_TEST_PIPELINE_KEY") && !text.contains("sk-pipeline-secret")
                && text.contains("401")
        }
        let run = RunDirectory(root: dir)
        #expect(try Data(contentsOf: run.responses) == responses)
        #expect(Self.lines(run.journal("judge")) == 0)
        #expect(!FileManager.default.fileExists(atPath: run.scored(.p0, .deterministic).path))
        let manifest = try Self.manifest(dir)
        #expect(manifest.stages["judge"] == nil && manifest.providers?["srv"]?.failedCalls ?? 0 > 0)
        let logged = try String(contentsOf: run.manifest, encoding: .utf8)
        #expect(!logged.contains("sk-pipeline-secret"))
    }

    @Test("a key variable that is not set fails before anything is written")
    func missingKey() async throws {
        let dir = Self.tempDir("nokey")
        let pipeline = try Self.pipeline(dir, Self.yaml(urls: ["http://127.0.0.1:9"], key: "CJE_TEST_UNSET_KEY_42"))
        await #expect(throws: ProviderError.missingKey(variable: "CJE_TEST_UNSET_KEY_42")) {
            try await pipeline.execute(through: .oracle)
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).isEmpty)
    }

    @Test("a budget stops the run cleanly: what was paid for is kept, and a re-run says the budget is spent")
    func budgetStops() async throws {
        let server = try await Peers.shared.llamaServer(0)
        let dir = try await Self.copyOfBase("budget")
        // About 450 input tokens per call at 1000 per million: ~0.45 a call, so 1.0 buys ~3.
        let yaml = Self.yaml(urls: [server.baseURL], concurrent: 1, extra: "budget: 1.0")
            .replacingOccurrences(of: "prefill: true", with: "prefill: true\n    input_price_per_million: 1000")
        await #expect {
            _ = try await Self.pipeline(dir, yaml).execute(through: .oracle)
        } throws: { error in
            guard case .budgetExhausted = error as? ProviderError else { return false }
            return error.localizedDescription.contains("budget reached")
        }
        let run = RunDirectory(root: dir)
        let judged = Self.lines(run.journal("judge"))
        #expect(judged > 0 && judged < 9)
        let spent = try #require(try Self.manifest(dir).providers?["srv"]).cost
        #expect(spent >= 1.0)
        await #expect {
            _ = try await Self.pipeline(dir, yaml).execute(through: .oracle)
        } throws: { error in
            error.localizedDescription.contains("budget 1.0000 is already spent")
        }
        #expect(Self.lines(run.journal("judge")) == judged)
    }

    @Test("a policy on a provider: its responses come over HTTP with the system prompt as a system message")
    func providerPolicy() async throws {
        let server = try await Peers.shared.llamaServer(0)
        let dir = Self.tempDir("policy")
        let yaml = Self.yaml(urls: [server.baseURL]).replacingOccurrences(
            of: "  - {name: pi_bad, system_prompt: \"You are an unhelpful assistant.\", max_tokens: 32}",
            with: "  - {name: pi_api, system_prompt: \"Answer in French.\", provider: srv, max_tokens: 24}")
        let report = try await Self.pipeline(dir, yaml).execute(through: .generate)
        #expect(report.first?.failed == 0)
        let records = try JSONLines.decode(ResponsesRecord.self, from: RunDirectory(root: dir).responses)
        for record in records {
            let api = try #require(record.responses["pi_api"])
            #expect(api.model == "smollm2" && api.systemPrompt == "Answer in French." && api.maxTokens == 24)
            #expect(!(api.response ?? "").isEmpty && (api.nTokens ?? 0) > 0 && api.finishReason != nil)
            #expect(record.responses["p0"]?.tokenIds != nil, "local policies still carry their tokens")
        }
        #expect(try Self.manifest(dir).stages["generate"]?.usage?["srv"]?.calls == 3)
    }

    @Test(
        "a stated interval and k samples: the method is on every record, and failures are null with a reason",
        arguments: [("confidence_interval", ""), ("samples", "\n  samples: 3")])
    func otherUncertaintyMethods(method: String, extra: String) async throws {
        let server = try await Peers.shared.llamaServer(0)
        // The judge's method is part of the run's fingerprint: a fresh run, not a copy of the base.
        let dir = Self.tempDir(method)
        let yaml = Self.yaml(urls: [server.baseURL]).replacingOccurrences(
            of: "judge: {provider: srv}", with: "judge:\n  provider: srv\n  uncertainty: \(method)\(extra)")
        _ = try await Self.pipeline(dir, yaml).execute(through: .judge)
        let run = RunDirectory(root: dir)
        let records =
            try JSONLines.decode(ScoredRecord.self, from: run.scored(.p0, .uncertainty))
            + JSONLines.decode(ScoredRecord.self, from: run.scored(.targets, .uncertainty))
        #expect(records.count == 9 && records.allSatisfy { $0.judgeMethod.rawValue == method })
        for record in records {
            if let score = record.judgeScore {
                #expect((0...1).contains(score) && (record.judgeScoreVariance ?? -1) >= 0)
            } else {
                #expect(record.error != nil && record.judgeScoreVariance == nil)
            }
        }
        // One temperature-0 answer per item, plus one interval question or three samples.
        #expect(try Self.manifest(dir).stages["judge"]?.usage?["srv"]?.calls == 9 * (method == "samples" ? 4 : 2))
    }
}
