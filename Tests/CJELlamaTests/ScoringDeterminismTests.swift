import CJEInference
import CJELlama
import Foundation
import CJETestSupport
import Testing

/// The determinism contract for teacher forcing, on the real model: bit-identical log probs
/// alone, in batches of other lengths, at other positions, with 1 or 2 threads, after reuse.
@Suite("Scoring determinism", .serialized, .needsRealModel)
struct ScoringDeterminismTests {
    /// A short request and a long one (context well over 600 tokens).
    static let short = ScoreRequest(
        context: Fixture.context(Fixture.helpful, "What is the capital of France?"),
        response: Fixture.response("The capital of France is Paris. It is known for the Eiffel Tower."),
        appendEndOfTurn: true, temperatures: [0.5, 1.0])
    static let long = ScoreRequest(
        context: Fixture.context(Fixture.helpful, Fixture.longPrompt),
        response: Fixture.response(
            "The notes describe weighting logged responses by target-policy likelihood and calibrating a judge. "
                + String(repeating: "Oracle labels anchor the judge scores to ground truth. ", count: 6)),
        appendEndOfTurn: false, temperatures: [0.5])

    /// Requests of assorted lengths to surround the request under test.
    static let others: [ScoreRequest] = (0..<9).map { i in
        ScoreRequest(
            context: Fixture.context(
                i % 2 == 0 ? Fixture.helpful : Fixture.unhelpful,
                i % 3 == 0 ? Fixture.longPrompt : "Tell me about the number \(i)."),
            response: Fixture.response(
                String(repeating: "Number \(i) is interesting because it is \(i). ", count: i + 1)),
            appendEndOfTurn: i % 2 == 0, temperatures: [1.0])
    }

    static func run(_ engine: LlamaEngine, _ requests: [ScoreRequest]) throws -> [ScoreResult] {
        try engine.scoreNow(requests).map { try $0.get() }
    }

    @Test("the long request's context is over 600 tokens")
    func longIsLong() {
        #expect(Self.long.context.count > 600)
    }

    @Test("a request scores the same alone, in a batch, and at another position", arguments: [short, long])
    func batchInvariance(request: ScoreRequest) throws {
        let engine = Fixture.engine
        let alone = try Self.run(engine, [request])[0]
        let first = try Self.run(engine, [request] + Self.others)[0]
        let middle = try Self.run(engine, Array(Self.others.prefix(4)) + [request] + Self.others.dropFirst(4))[4]
        let last = try Self.run(engine, Self.others + [request]).last!
        for other in [first, middle, last] {
            #expect(other == alone)
        }
        #expect(alone.scored.allSatisfy { $0.total < 0 && $0.total.isFinite })
    }

    @Test("a request scores the same with 1 and 2 threads and in engines of other shapes")
    func threadAndShapeInvariance() throws {
        let reference = try Self.run(Fixture.engine, [Self.short, Self.long])
        let one = try LlamaEngine(
            model: Fixture.model,
            options: LlamaEngineOptions(threads: 1, maxSequences: 3, sequenceContext: 1024, batchSize: 64))
        #expect(try Self.run(one, [Self.long, Self.short] + Self.others).prefix(2) == [reference[1], reference[0]])
        let single = try LlamaEngine(
            model: Fixture.model, options: LlamaEngineOptions(threads: 2, maxSequences: 1, batchSize: 512))
        #expect(try Self.run(single, [Self.short]) == [reference[0]])
        #expect(try Self.run(single, [Self.long]) == [reference[1]])
    }

    @Test("a request scores the same after the context was reused many times")
    func reuse() throws {
        let engine = Fixture.engine
        let before = try Self.run(engine, [Self.short])
        for _ in 0..<3 { _ = try Self.run(engine, Self.others) }
        _ = engine.generateNow([
            GenerationRequest(context: Self.short.context, temperature: 1, maxNewTokens: 40, seed: 7)
        ])
        #expect(try Self.run(engine, [Self.short]) == before)
    }

    @Test("identical requests (p0 and pi_clone) give identical numbers, so their weight is exactly 1")
    func cloneWeightIsOne() throws {
        let results = try Self.run(Fixture.engine, [Self.short, Self.others[3], Self.short])
        #expect(results[0] == results[2])
        #expect(exp(results[2].scored[0].total - results[0].scored[0].total) == 1.0)
    }

    @Test("one request at two temperatures equals two requests at one temperature each")
    func temperaturesShareAPass() throws {
        var atHalf = Self.short
        atHalf.temperatures = [0.5]
        var atOne = Self.short
        atOne.temperatures = [1.0]
        let both = try Self.run(Fixture.engine, [Self.short])[0]
        let separate = try Self.run(Fixture.engine, [atOne, atHalf])
        #expect(both.at(temperature: 0.5) == separate[1].scored[0])
        #expect(both.at(temperature: 1.0) == separate[0].scored[0])
        // A lower temperature sharpens the distribution: a different number, not a copy.
        #expect(both.scored[0].total != both.scored[1].total)
    }

    @Test("the end-of-turn token is scored only when asked")
    func endOfTurn() throws {
        var cut = Self.short
        cut.appendEndOfTurn = false
        let results = try Self.run(Fixture.engine, [Self.short, cut])
        let natural = results[0].scored[1]
        let truncated = results[1].scored[1]
        #expect(natural.tokenLogProbs.count == Self.short.response.count + 1)
        #expect(truncated.tokenLogProbs.count == Self.short.response.count)
        #expect(Array(natural.tokenLogProbs.dropLast()) == truncated.tokenLogProbs)
    }
}

@Suite("Continuation scoring", .serialized, .needsRealModel)
struct ContinuationTests {
    @Test("scoring alternatives after a shared context equals scoring each as one sequence, bit for bit")
    func matchesPlainScoring() throws {
        let context = Fixture.context(Fixture.helpful, "Rate this answer from 0 to 10.") + Fixture.response("Score:")
        let answers = (0...10).map { Fixture.response(" \($0)") }
        let requests = [
            ContinuationRequest(context: context, continuations: answers, appendEndOfTurn: true, temperature: 1),
            ContinuationRequest(
                context: Fixture.context(Fixture.unhelpful, Fixture.longPrompt),
                continuations: Array(answers.prefix(3)),
                appendEndOfTurn: false, temperature: 0.5),
        ]
        let fast = try Fixture.engine.scoreContinuationsNow(requests).map { try $0.get().logProbs }
        for (request, values) in zip(requests, fast) {
            let plain = try Fixture.engine.scoreNow(
                request.continuations.map {
                    ScoreRequest(
                        context: request.context, response: $0, appendEndOfTurn: request.appendEndOfTurn,
                        temperatures: [request.temperature])
                }
            ).map { try $0.get().scored[0].total }
            #expect(values == plain)
        }
        let mass = fast[0].map { exp($0) }.reduce(0, +)
        #expect(mass > 0 && mass <= 1)
    }

    @Test("the greedy answer decoded after the continuations equals greedy generation")
    func greedyMatchesGeneration() throws {
        let context = Fixture.context(Fixture.helpful, "Rate this answer from 0 to 10.") + Fixture.response("Score:")
        let answers = (0...10).map { Fixture.response(" \($0)") }
        let contexts = [context, Fixture.context(Fixture.unhelpful, Fixture.longPrompt)]
        for maxTokens in [1, 6, 40] {
            let requests = contexts.map {
                ContinuationRequest(
                    context: $0, continuations: answers, appendEndOfTurn: true, temperature: 1,
                    greedyMaxTokens: maxTokens)
            }
            let combined = try Fixture.engine.scoreContinuationsNow(requests).map { try $0.get() }
            let generated = try Fixture.engine.generateNow(
                contexts.map { GenerationRequest(context: $0, temperature: 0, maxNewTokens: maxTokens, seed: 0) }
            ).map { try $0.get() }
            #expect(combined.map(\.greedy) == generated.map { Optional($0) })
            let plain = try Fixture.engine.scoreContinuationsNow(
                requests.map {
                    var r = $0; r.greedyMaxTokens = 0; return r
                }
            )
            .map { try $0.get() }
            #expect(combined.map(\.logProbs) == plain.map(\.logProbs))
            #expect(plain.allSatisfy { $0.greedy == nil })
        }
    }
}
