import CJEInference
import CJELlama
import Foundation
import CJETestSupport
import Testing

@Suite("Generation", .serialized, .needsRealModel)
struct GenerationTests {
    static let request = GenerationRequest(
        context: Fixture.context(Fixture.helpful, "Give me three tips for learning a new language."),
        temperature: 0.7, maxNewTokens: 48, seed: 1234)
    static let longRequest = GenerationRequest(
        context: Fixture.context(Fixture.helpful, Fixture.longPrompt), temperature: 1.0, maxNewTokens: 32, seed: 99)

    static let neighbours: [GenerationRequest] = (0..<7).map { i in
        GenerationRequest(
            context: Fixture.context(i % 2 == 0 ? Fixture.helpful : Fixture.unhelpful, "Count to \(i + 3)."),
            temperature: [0.0, 0.5, 1.0][i % 3], maxNewTokens: 8 + 9 * i, seed: UInt64(i))
    }

    static func run(_ engine: LlamaEngine, _ requests: [GenerationRequest]) throws -> [GenerationResult] {
        try engine.generateNow(requests).map { try $0.get() }
    }

    @Test("a request generates the same tokens alone and beside others", arguments: [request, longRequest])
    func batchInvariance(request: GenerationRequest) throws {
        let alone = try Self.run(Fixture.engine, [request])[0]
        let beside = try Self.run(Fixture.engine, Self.neighbours + [request])
        let first = try Self.run(Fixture.engine, [request] + Self.neighbours)[0]
        #expect(beside.last! == alone)
        #expect(first == alone)
        #expect(!alone.tokens.isEmpty)
    }

    @Test("a request generates the same tokens with 1 thread and with 2")
    func threadInvariance() throws {
        let two = try Self.run(Fixture.engine, [Self.request])[0]
        let engine = try LlamaEngine(
            model: Fixture.model, options: LlamaEngineOptions(threads: 1, maxSequences: 2, batchSize: 128))
        let one = try Self.run(engine, [Self.request, Self.neighbours[2]])[0]
        #expect(one.tokens == two.tokens)
        #expect(one.tokenLogProbs == two.tokenLogProbs)
    }

    @Test("a fresh process generates the same tokens")
    func freshProcess() throws {
        let here = try Self.run(Fixture.engine, [Self.request])[0]
        let process = Process()
        process.executableURL = Fixture.executable
        process.arguments = [
            "generate-once", "--model", Fixture.modelPath, "--threads", "1",
            "--system", Fixture.helpful, "--user", "Give me three tips for learning a new language.",
            "--temperature", "0.7", "--max-tokens", "48", "--seed", "1234",
        ]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        let printed = try JSONDecoder().decode([String: [Int32]].self, from: data)
        #expect(printed["tokens"] == here.tokens)
    }

    @Test("same seed, same sample; another seed, another sample")
    func seeds() throws {
        var other = Self.request
        other.seed = 4321
        let results = try Self.run(Fixture.engine, [Self.request, Self.request, other])
        #expect(results[0] == results[1])
        #expect(results[0].tokens != results[2].tokens)
    }

    @Test("finish reasons, token counts and sampled log probs are consistent")
    func resultShape() throws {
        let results = try Self.run(Fixture.engine, Self.neighbours)
        for (request, result) in zip(Self.neighbours, results) {
            #expect(result.tokens.count <= request.maxNewTokens)
            switch result.finishReason {
            case .length: #expect(result.tokens.count == request.maxNewTokens)
            case .stop: #expect(result.tokens.count < request.maxNewTokens)
            }
            #expect(result.tokens.allSatisfy { !Fixture.model.isEndOfGeneration($0) })
            if request.temperature == 0 {
                #expect(result.sampledLogProb == nil)
            } else {
                let expected = result.tokens.count + (result.finishReason == .stop ? 1 : 0)
                #expect(result.tokenLogProbs.count == expected)
                #expect(result.tokenLogProbs.allSatisfy { $0 <= 0 && $0.isFinite })
            }
        }
    }

    @Test("teacher forcing the generated tokens reproduces the sampled log probs bit for bit")
    func sampledEqualsScored() throws {
        let generated = try Self.run(Fixture.engine, Self.neighbours + [Self.request, Self.longRequest])
        for (request, result) in zip(Self.neighbours + [Self.request, Self.longRequest], generated)
        where request.temperature > 0 {
            let scored = try Fixture.engine.scoreNow([
                ScoreRequest(
                    context: request.context, response: result.tokens,
                    appendEndOfTurn: result.finishReason == .stop, temperatures: [request.temperature])
            ])[0].get().scored[0]
            #expect(scored.tokenLogProbs == result.tokenLogProbs)
            #expect(scored.total == result.sampledLogProb)
        }
    }
}
