import CJEInference
import CJEPipeline
import CJETestSupport
import Foundation
import Testing

/// Several draws per prompt: each draw's seed is its own, a draw is the same alone as in a
/// batch, draw 0 is the run without draws, and a larger `draws` extends a run as a larger N does.
@Suite("Draws")
struct DrawsTests {
    static let yaml = FakeRun.yaml.replacingOccurrences(
        of: "oracle: {fraction: 0.5}", with: "draws: 2\noracle: {design: paired, fraction: 0.5}"
    )
    .replacingOccurrences(of: "{name: pi_bad,", with: "{name: pi_bad, draws: 3,")

    @Test("every policy's k draws: own seeds, draw 0 as without draws, each regenerated alone the same")
    func draws() async throws {
        let run = try FakeRun("draws", yaml: Self.yaml)
        try await run.execute()
        let single = try FakeRun(
            "draws-single",
            yaml: Self.yaml.replacingOccurrences(of: "draws: 2\n", with: "")
                .replacingOccurrences(of: " draws: 3,", with: ""))
        try await single.execute()
        let records = try run.decode(ResponsesRecord.self, run.run.responses)
        let first = try single.decode(ResponsesRecord.self, single.run.responses)
        #expect(records.map(\.responses) == first.map(\.responses), "draw 0 is the response without draws")
        for record in records {
            for (policy, k) in [("p0", 2), ("pi_clone", 2), ("pi_bad", 3)] {
                let draws = record.allDraws(of: policy)
                #expect(draws.map(\.draw) == Array(0..<k))
                for (draw, response) in draws {
                    let key = ItemKey(promptId: record.promptId, policy: policy, draw: draw)
                    #expect(response.seed == ItemSeed.derive(runSeed: 3, policy: policy, item: key.drawItem))
                    #expect(response.drawIdx == (draw > 0 ? draw : nil))
                    // The draw alone, in a batch of one, on a fresh engine.
                    let policyConfig = try #require(run.config.policies.first { $0.name == policy })
                    let engine = FakeEngine()
                    let request = GenerationRequest(
                        context: try engine.promptTokens([
                            .system(policyConfig.systemPrompt), .user(record.prompt),
                        ]), temperature: policyConfig.temperature, maxNewTokens: policyConfig.maxTokens,
                        seed: response.seed)
                    let alone = try await engine.generateBatch([request])[0].get()
                    #expect(alone.tokens == response.tokenIds && alone.sampledLogProb == response.sampledLogprob)
                }
            }
        }
        // Every draw is judged and exported with its index; paired labels every draw.
        for (policy, k) in [("p0", 2), ("pi_clone", 2), ("pi_bad", 3)] {
            let rows = try LabelDesignTests.rows(run.run.freshDraws(policy))
            #expect(rows.count == 6 * k)
            #expect(Set(rows.compactMap { $0["row_id"] as? String }).count == rows.count)
            #expect(Set(rows.compactMap { $0["draw_idx"] as? Int }) == Set(0..<k))
            let labelled = rows.filter { $0["oracle_label"] != nil }
            #expect(labelled.count == 3 * k, "ceil(0.5 x 6) prompts, every draw")
        }
        let scored = try run.decode(ScoredRecord.self, run.run.scored(.draws, .uncertainty))
        #expect(scored.count == 6 * (1 + 1 + 2) && scored.allSatisfy { ($0.drawIdx ?? 0) > 0 })
        let logged = try String(contentsOf: run.run.cjeDataset, encoding: .utf8).split(separator: "\n")
        #expect(logged.count == 6, "the off-policy set holds the logged draw only")
    }

    @Test("raising draws extends a run: only the new draws are generated, and the files equal a fresh run's")
    func extend() async throws {
        let fresh = try FakeRun("draws-fresh", yaml: Self.yaml)
        try await fresh.execute()
        var run = try FakeRun("draws-extend", yaml: Self.yaml)
        run.config.draws = 1
        for k in run.config.policies.indices { run.config.policies[k].draws = nil }
        try await run.execute()
        let before = run.engine.counts.generated
        run.config = fresh.config
        let reports = try await run.execute()
        #expect(reports.first { $0.stage == "generate" }?.doneNow == 6 * (1 + 1 + 2))
        #expect(run.engine.counts.generated == before + 6 * (1 + 1 + 2) + 10, "the new draws and validate's audit")
        #expect(try run.outputs() == fresh.outputs())
    }

    @Test("a draw count outside 1...1000 is refused naming the key")
    func refusals() {
        for (yaml, key) in [
            ("draws: 0", "'draws'"),
            ("policies: [{name: p0, system_prompt: x, draws: 1001}]", "policies[0].draws"),
        ] {
            #expect(
                performing: { _ = try PipelineConfig.parse("n: 4\n" + yaml, path: "c.yaml") },
                throws: { error in error.localizedDescription.contains(key) })
        }
    }
}
