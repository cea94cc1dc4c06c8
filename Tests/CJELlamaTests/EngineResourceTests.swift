import CJEInference
import CJELlama
import CJETestSupport
import Foundation
import Testing

/// What an engine holds and where its time goes: a KV cache sized to the calls, every engine's
/// work on one thread, the time inside llama_decode counted apart from the rest.
@Suite("Engine resources", .serialized, .needsRealModel)
struct EngineResourceTests {
    static func scored(_ engine: LlamaEngine, _ requests: [ScoreRequest]) throws -> [ScoreResult] {
        try engine.scoreNow(requests).map { try $0.get() }
    }

    @Test("the KV cache grows to what the calls need, within the options, and its size changes no number")
    func sizedToTheCalls() throws {
        let engine = try LlamaEngine(
            model: Fixture.model, options: LlamaEngineOptions(threads: 2, maxSequences: 8, sequenceContext: 2048))
        #expect(engine.capacity == (1, 256))
        let short = ScoringDeterminismTests.short
        let long = ScoringDeterminismTests.long
        let alone = try Self.scored(engine, [short])
        #expect(engine.capacity == (1, 256))
        let together = try Self.scored(engine, [short, short, long])
        let longest = long.context.count + long.response.count
        #expect(engine.capacity.sequences == 3)
        #expect(engine.capacity.tokens >= longest && engine.capacity.tokens % 256 == 0)
        #expect(engine.capacity.tokens <= 2048)
        // The same numbers as on an engine that held the most its options allow from the start.
        let full = try LlamaEngine(
            model: Fixture.model, options: LlamaEngineOptions(threads: 2, maxSequences: 8, sequenceContext: 2048))
        try full.reserve(sequences: 64, tokens: 100_000)
        #expect(full.capacity == (8, 2048))
        #expect(try Self.scored(full, [short]) == alone)
        #expect(try Self.scored(full, [short, short, long]) == together)
        // A request longer than the options allow is refused against that limit, not the cache's.
        let tooLong = ScoreRequest(
            context: long.context, response: Array(repeating: long.response, count: 20).flatMap { $0 },
            appendEndOfTurn: false, temperatures: [1])
        let length = tooLong.context.count + tooLong.response.count
        try #require(length > 2048)
        #expect(engine.scoreNow([tooLong]).first.map { (try? $0.get()) == nil } == true)
        if case .failure(let error) = engine.scoreNow([tooLong])[0] {
            #expect(error == .tooLong(index: 0, tokens: length, limit: 2048))
        }
    }

    @Test("engines called from many threads at once give the numbers they give one call at a time")
    func manyCallers() async throws {
        let requests = [ScoringDeterminismTests.short, ScoringDeterminismTests.long]
        let expected = try Self.scored(Fixture.engine, requests)
        let other = try LlamaEngine(model: Fixture.model, options: LlamaEngineOptions(threads: 1, maxSequences: 2))
        let results = await withTaskGroup(of: [ScoreResult]?.self) { group in
            for k in 0..<6 {
                group.addTask {
                    let engine = k % 2 == 0 ? Fixture.engine : other
                    if k % 3 == 0 { return try? await engine.score(requests).map { try $0.get() } }
                    return try? engine.scoreNow(requests).map { try $0.get() }
                }
            }
            var all: [[ScoreResult]?] = []
            for await result in group { all.append(result) }
            return all
        }
        #expect(results.count == 6)
        for result in results { #expect(result == expected) }
    }

    @Test("time inside llama_decode is counted within the work, and generation steps apart from the context")
    func timings() throws {
        let engine = try LlamaEngine(model: Fixture.model, options: LlamaEngineOptions(threads: 2, maxSequences: 2))
        let before = engine.timings
        let result = try engine.generateNow([
            GenerationRequest(
                context: Fixture.context(Fixture.helpful, "Count from one to twenty."), temperature: 0.5,
                maxNewTokens: 24, seed: 7)
        ])[0].get()
        let after = engine.timings
        let work = after.work - before.work
        let decode = after.decode - before.decode
        #expect(work > 0 && decode > 0 && decode <= work)
        #expect(after.outsideDecode(since: before) == 1 - decode / work)
        // The first token comes with the context's decode; every later one from a step.
        #expect(after.stepTokens - before.stepTokens == result.tokenLogProbs.count - 1)
        #expect(after.stepRate(since: before).map { $0 > 0 } == true)
    }
}
