import CJEInference
import CJEPipeline
import CJEProviders
import Foundation
import Testing

/// `cje-prep estimate`'s arithmetic on a run directory whose stage reports are set by hand.
@Suite("Estimate")
struct EstimateTests {
    static func report(_ stage: String, total: Int, work: Int, seconds: Double) -> StageReport {
        var report = StageReport(
            stage: stage, total: total, succeeded: total, failed: 0, doneNow: work, seconds: seconds)
        report.workItems = work
        report.workSeconds = seconds
        return report
    }

    @Test("per-stage seconds per computed item, scaled to N; every stage divides over the shards")
    func arithmetic() async throws {
        let run = try FakeRun("estimate")
        try await run.execute(through: .generate)
        var manifest = try run.manifest()
        #expect(manifest.n == 6)
        var generate = Self.report("generate", total: 18, work: 18, seconds: 36)
        generate.tokens = 600
        var logprobs = Self.report("logprobs", total: 18, work: 6, seconds: 3)
        logprobs.shared = 12
        var judge = Self.report("judge", total: 18, work: 18, seconds: 54)
        var usage = ProviderUsage()
        usage.calls = 18
        usage.inputTokens = 900
        usage.outputTokens = 90
        usage.cost = 0.18
        judge.usage = ["hosted": usage]
        manifest.stages = [
            "generate": generate, "logprobs": logprobs, "judge": judge,
            "oracle_calibration": Self.report("oracle_calibration", total: 6, work: 6, seconds: 12),
            "oracle_validation": Self.report("oracle_validation", total: 6, work: 6, seconds: 12),
        ]
        let e = RunEstimate(manifest: manifest, dir: "D", diskBytes: 6000, n: 600, machines: 4)
        func close(_ a: Double?, _ b: Double) -> Bool { a.map { abs($0 - b) < 1e-9 } ?? false }
        #expect(e.stages.map(\.stage) == ["generate", "logprobs", "judge", "oracle_calibration", "oracle_validation"])
        #expect(e.stages.allSatisfy { $0.sharded }, "the oracle labels each shard's own rows")
        #expect(e.stages.map(\.items) == [1800, 1800, 1800, 600, 600])
        #expect(close(e.stages[1].computedPerPrompt, 1) && close(e.stages[1].secondsPerItem, 0.5))
        #expect(close(e.stages[0].hours, 1) && close(e.stages[1].hours, 1.0 / 12) && close(e.stages[2].hours, 1.5))
        #expect(close(e.stages[3].hours, 1.0 / 3) && close(e.stages[4].hours, 1.0 / 3))
        #expect(close(e.hours, 3.25))
        // The slowest of 4 shards holds 150 of 600 prompts; the oracle runs in the shards too.
        #expect(close(e.hoursOnMachines, (1 + 1.0 / 12 + 1.5 + 2.0 / 3) / 4))
        #expect(close(e.cost, 18) && close(e.providerCalls, 1800) && close(e.providerTokens, 99000))
        #expect(close(e.generatedTokens, 60000) && close(e.diskBytes, 600_000))
        #expect(e.untimed.isEmpty)

        // 7 prompts on 4 machines: the slowest shard has 2; a stage never timed is named.
        manifest.stages["judge"]!.workItems = 0
        let odd = RunEstimate(manifest: manifest, dir: "D", diskBytes: 0, n: 7, machines: 4)
        #expect(odd.untimed == ["judge"] && odd.stages[2].hours == nil)
        #expect(close(odd.hoursOnMachines, (3.0 * 7 * 2 + 7 * 0.5 + 2 * 7 * 2.0) / 3600 * (2.0 / 7)))
    }

    @Test("a hosted provider: its calls, tokens and spend at N, its measured rate, and its rate limit's floor")
    func hostedProvider() async throws {
        let run = try FakeRun("estimate-hosted")
        try await run.execute(through: .generate)
        var manifest = try run.manifest()
        var usage = ProviderUsage()
        usage.calls = 18
        usage.inputTokens = 1800
        usage.outputTokens = 180
        usage.cost = 0.36
        var generate = Self.report("generate", total: 18, work: 18, seconds: 9)
        generate.usage = ["api": usage]
        var judge = Self.report("judge", total: 18, work: 18, seconds: 9)
        judge.usage = ["api": usage]
        manifest.stages = [
            "generate": generate, "logprobs": Self.report("logprobs", total: 0, work: 0, seconds: 0), "judge": judge,
        ]
        var limited = ProviderConfig(baseURLs: ["http://x.invalid/v1"], model: "m")
        limited.settings.requestsPerMinute = 60
        let e = RunEstimate(
            manifest: manifest, dir: "D", diskBytes: 0, n: 600, machines: 10, limits: ["api": limited])
        func close(_ a: Double?, _ b: Double) -> Bool { a.map { abs($0 - b) < 1e-9 } ?? false }
        let api = try #require(e.providers.first)
        #expect(e.providers.count == 1 && api.name == "api")
        // 36 calls per 6 prompts: 3,600 at 600; 2 calls a second: half an hour on one machine.
        #expect(close(api.calls, 3600) && close(api.inputTokens, 360_000) && close(api.cost, 72))
        #expect(close(api.measuredCallsPerSecond, 2) && close(api.hours, 0.5))
        // 60 a minute: an hour at least, more than 10 machines would take; a stage without items takes none.
        #expect(close(api.limitHours, 1) && close(e.hoursOnMachines, 1))
        #expect(e.untimed.isEmpty && e.stages[1].hours == 0)
        #expect(
            e.warnings.contains {
                $0.contains("provider api: its rate limits allow its 3600 calls in no less than 1.00 h")
            })
    }

    @Test("a stage's work adds up over invocations in the manifest")
    func cumulative() async throws {
        let run = try FakeRun("estimate-cumulative")
        try await run.execute(through: .generate)
        let first = try #require(try run.manifest().stages["generate"])
        #expect(first.workItems == 18 && first.workSeconds == first.seconds)
        try await run.execute(through: .generate)
        let second = try #require(try run.manifest().stages["generate"])
        #expect(second.doneNow == 0 && second.workItems == 18)
        #expect(abs(second.workSeconds! - (first.seconds + second.seconds)) < 1e-12)

        // Provider usage adds up the same way, and an invocation that made no call keeps it.
        let store = try ManifestStore(run: run.run, fingerprint: try run.fingerprint, n: 6)
        var usage = ProviderUsage()
        usage.calls = 4
        usage.cost = 0.5
        var report = Self.report("judge", total: 6, work: 4, seconds: 2)
        report.usage = ["hosted": usage]
        try store.record(report)
        try store.record(report)
        report.usage = nil
        let kept = try store.record(report)
        #expect(kept.usage?["hosted"]?.calls == 8 && kept.usage?["hosted"]?.cost == 1.0)
        #expect(try run.manifest().stages["judge"]?.usage == kept.usage && kept.workItems == 12)
    }

    @Test("rates are per prompt the run has, and a source smaller than N is named")
    func sourceSmallerThanAsked() async throws {
        var run = try FakeRun("estimate-small-source")
        let size = PromptSource.builtin.count
        run.config.n = size + 10
        try await run.execute(through: .generate)
        let manifest = try run.manifest()
        #expect(manifest.prompts?.written == size && manifest.prompts?.sourceSize == size)
        let e = RunEstimate(manifest: manifest, dir: "D", diskBytes: 0, n: 10_000, machines: 1)
        #expect(e.measuredN == size)
        let generate = try #require(e.stages.first { $0.stage == "generate" })
        #expect(generate.itemsPerPrompt == 3, "three policies: 3 items a prompt, whatever N was asked for")
        #expect(e.warnings.count == 2)
        #expect(e.warnings[0].contains("asked for \(size + 10) prompts and its source gave \(size)"))
        #expect(e.warnings[1].contains("holds \(size) prompts: a run of 10000"))
        #expect(e.table.contains("warning: the measured run's prompt source holds \(size) prompts"))
        #expect(RunEstimate(manifest: manifest, dir: "D", diskBytes: 0, n: size, machines: 1).warnings.count == 1)
    }

    @Test("a local stage that got far fewer CPUs than the machine has is named; provider stages are not judged")
    func starvedPilot() async throws {
        let run = try FakeRun("estimate-starved")
        try await run.execute(through: .generate)
        var manifest = try run.manifest()
        var generate = Self.report("generate", total: 18, work: 18, seconds: 36)
        generate.workCPUSeconds = 70  // 1.94 of 2 CPUs: quiet
        var judge = Self.report("judge", total: 18, work: 18, seconds: 54)
        judge.workCPUSeconds = 2  // waiting on a provider: not judged
        judge.usage = ["hosted": ProviderUsage()]
        judge.usage?["hosted"]?.calls = 18
        manifest.stages = ["generate": generate, "judge": judge]
        #expect(RunEstimate(manifest: manifest, dir: "D", diskBytes: 0, n: 6, machines: 1, cpus: 2).warnings.isEmpty)
        manifest.stages["generate"]?.workCPUSeconds = 30  // 0.83 of 2 CPUs: another process had one
        let starved = RunEstimate(manifest: manifest, dir: "D", diskBytes: 0, n: 6, machines: 1, cpus: 2)
        #expect(starved.warnings.count == 1 && starved.warnings[0].contains("generate 0.83"))
        #expect(starved.stages.first { $0.stage == "generate" }?.cpusUsed == 30.0 / 36.0)
    }

    @Test("local generation: tokens at the full engine's rate plus one call's end per 1,024 answers")
    func generationFromTheEngine() async throws {
        let run = try FakeRun("estimate-engine")
        try await run.execute(through: .generate)
        var manifest = try run.manifest()
        // 6 prompts, 18 answers of 50 tokens: 10 s with the engine full (450 tokens: 45 tok/s),
        // then the call's end, 20 s for 450 tokens.
        var generate = Self.report("generate", total: 18, work: 18, seconds: 30)
        generate.tokens = 900
        var engine = EngineTimings()
        engine.generationCalls = 1
        engine.fullSeconds = 10
        engine.fullTokens = 450
        engine.drainSeconds = 20
        engine.drainTokens = 450
        generate.workEngine = engine
        manifest.stages = ["generate": generate]
        manifest.parts = ["models": 1.5, "prompts": 0.25, "export": 0.5, "validate": 12]
        func close(_ a: Double?, _ b: Double) -> Bool { a.map { abs($0 - b) < 1e-9 } ?? false }
        // 1,000 prompts: 3,000 answers in 3 calls, 150,000 tokens, 1,350 of them in the 3 ends.
        let e = RunEstimate(manifest: manifest, dir: "D", diskBytes: 0, n: 1000, machines: 2)
        let stage = try #require(e.stages.first)
        #expect(close(stage.fullTokensPerSecond, 45) && close(stage.drainSecondsPerCall, 20))
        let seconds: Double = (150_000.0 - 3 * 450) / 45 + 3 * 20
        #expect(close(stage.hours, seconds / 3600))
        #expect(close(stage.secondsPerItem, seconds / 3000))
        // The slowest of 2 shards: 500 prompts, 1,500 answers, 2 calls.
        let shard: Double = (75_000.0 - 2 * 450) / 45 + 2 * 20
        #expect(close(e.hoursOnMachines, shard / 3600))
        #expect(!e.warnings.contains { $0.contains("never filled") })
        #expect(
            e.table.contains(
                "loading models 1.5 s, sampling prompts 0.2 s, export 0.5 s, validate 12.0 s (models load on every machine"
            ))

        // A pilot whose engine was never full: per answer, and said to be an upper bound.
        manifest.stages["generate"]?.workEngine?.fullSeconds = 0
        manifest.stages["generate"]?.workEngine?.fullTokens = 0
        let small = RunEstimate(manifest: manifest, dir: "D", diskBytes: 0, n: 1000, machines: 1)
        let perAnswer: Double = 30.0 / 18
        #expect(close(small.stages.first?.hours, 3000 * perAnswer / 3600))
        #expect(
            small.warnings.contains { $0.hasPrefix("generate: the measured run's generation never filled its engine") })
    }
}
