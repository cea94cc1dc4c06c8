import CJEInference
import Foundation

/// The engine's determinism contract checked on one model, in a few seconds to minutes: what
/// `cje-prep model-info --check` prints and the model matrix (`make test`) asserts for every
/// quantization and architecture.
public struct DeterminismCheck: Sendable, Codable {
    /// One property of the contract and whether it held.
    public struct Item: Sendable, Codable {
        public var name: String
        public var passed: Bool
        public var detail: String
    }

    public var items: [Item]
    /// Seconds the check took.
    public var seconds: Double

    public var passed: Bool { items.allSatisfy(\.passed) }

    /// Runs the contract on `model`: generation with 1 and with `sequences` sequences, sampled
    /// against teacher-forced log probs, teacher forcing alone against in a batch of many, two
    /// identical requests (p0 and a clone) in one batch, continuations against plain scoring.
    public static func run(model: LlamaModel, threads: Int = 2, sequences: Int = 32, newTokens: Int = 24) throws
        -> DeterminismCheck
    {
        let started = Date()
        let date = ChatDate(day: "2026-01-15") ?? .today
        let systems = ["You are a helpful assistant.", "You are an unhelpful assistant. Answer vaguely."]
        let paragraph =
            "Causal judge evaluation weighs logged responses by how likely each target policy was to write them, and calibrates a cheap judge with a few expensive oracle labels. "
        var notes = String(repeating: paragraph, count: 4)
        // A sliding-window model gets one context well past its window: llama.cpp's window-sized
        // cache (window + batch size cells) would reuse the cells of tokens that left the window,
        // differently in the two engines below, whose batch sizes differ.
        while model.slidingWindow > 0, try model.tokenize(response: notes).count < model.slidingWindow + 300 {
            notes += paragraph
        }
        let questions = [
            "What is the capital of France?", "Give me three tips for learning a new language.",
            "Write a haiku about the sea.", "Explain what a hash function is in two sentences.",
            "Count from one to ten in words.", "Read the notes below and summarise them.\n" + notes,
        ]
        let contexts = try questions.enumerated().map { i, question in
            try model.promptTokens([.system(systems[i % 2]), .user(question)], date: date)
        }
        let requests = (0..<sequences).map { i in
            GenerationRequest(
                context: contexts[i % contexts.count], temperature: [0.7, 1.0, 0.5, 0][i % 4],
                maxNewTokens: newTokens - (i % 3) * 4, seed: UInt64(1000 + i))
        }
        let sequenceContext = ((contexts.map(\.count).max() ?? 0) + newTokens + 300) / 256 * 256 + 256
        let many = try LlamaEngine(
            model: model,
            options: LlamaEngineOptions(
                threads: threads, maxSequences: sequences, sequenceContext: sequenceContext, batchSize: 512),
            chatDate: date)
        let one = try LlamaEngine(
            model: model,
            options: LlamaEngineOptions(
                threads: threads, maxSequences: 1, sequenceContext: sequenceContext, batchSize: 64),
            chatDate: date)
        var items: [Item] = []

        // Generation: every request beside 31 others, then some alone.
        let together = try many.generateNow(requests).map { try $0.get() }
        let aloneIndices = Array(stride(from: 0, to: sequences, by: max(1, sequences / 6)))
        let alone = try aloneIndices.map { try one.generateNow([requests[$0]])[0].get() }
        let differing = zip(aloneIndices, alone).filter { together[$0.0] != $0.1 }.map(\.0)
        items.append(
            Item(
                name: "generation alone == beside \(sequences - 1) others", passed: differing.isEmpty,
                detail: differing.isEmpty
                    ? "\(alone.count) requests, \(alone.map(\.tokens.count).reduce(0, +)) tokens identical"
                    : "requests \(differing) differ"))

        items.append(try rowCounts(many, requests: requests, together: together))

        // Sampled log probs == teacher forcing the sampled tokens, in one batch of all of them.
        let sampled = zip(requests, together).filter { $0.0.temperature > 0 }
        let scoreRequests = sampled.map { request, result in
            ScoreRequest(
                context: request.context, response: result.tokens, appendEndOfTurn: result.finishReason == .stop,
                temperatures: [request.temperature])
        }
        let forced = try many.scoreNow(scoreRequests).map { try $0.get().scored[0] }
        var worst = 0.0
        var mismatches = 0
        for ((_, result), scored) in zip(sampled, forced) where scored.tokenLogProbs != result.tokenLogProbs {
            mismatches += 1
            worst = max(worst, abs(scored.total - (result.sampledLogProb ?? 0)))
        }
        items.append(
            Item(
                name: "sampled == teacher-forced, bit for bit", passed: mismatches == 0,
                detail: mismatches == 0
                    ? "\(sampled.count) responses"
                    : "\(mismatches) of \(sampled.count) differ, by up to \(worst) nats"))

        // Teacher forcing one request alone == in a batch of many (and p0 == its clone there).
        let longest =
            scoreRequests.indices.max { scoreRequests[$0].context.count < scoreRequests[$1].context.count } ?? 0
        let probes = Array(Set([0, longest, scoreRequests.count - 1])).sorted()
        var aloneDiffer: [Int] = []
        for i in probes {
            let single = try one.scoreNow([scoreRequests[i]])[0].get().scored[0]
            if single != forced[i] { aloneDiffer.append(i) }
        }
        items.append(
            Item(
                name: "teacher forcing alone == in a batch of \(scoreRequests.count)", passed: aloneDiffer.isEmpty,
                detail: aloneDiffer.isEmpty ? "\(probes.count) requests" : "requests \(aloneDiffer) differ"))
        let clone = try many.scoreNow([scoreRequests[0]] + scoreRequests + [scoreRequests[0]]).map { try $0.get() }
        let last = clone[clone.count - 1]
        let weight = exp(last.scored[0].total - clone[0].scored[0].total)
        items.append(
            Item(
                name: "clone weight exactly 1", passed: weight == 1 && clone[0] == last,
                detail: "exp(log p_clone - log p0) = \(weight)"))

        // Continuations (the judge's eleven answers) == scoring each as one sequence.
        let answers = try (0...10).map { try model.tokenize(response: " \($0)") }
        let judgeContext = contexts[0] + (try model.tokenize(response: "Score:"))
        let continuation = try many.scoreContinuationsNow([
            ContinuationRequest(context: judgeContext, continuations: answers, appendEndOfTurn: true, temperature: 1)
        ])[0].get().logProbs
        let plain = try many.scoreNow(
            answers.map { ScoreRequest(context: judgeContext, response: $0, appendEndOfTurn: true, temperatures: [1]) }
        ).map { try $0.get().scored[0].total }
        items.append(
            Item(
                name: "continuations == plain scoring", passed: continuation == plain,
                detail: "11 answers after one context"))
        return DeterminismCheck(items: items, seconds: Date().timeIntervalSince(started))
    }

    /// Every row count a decoding product has up to 9 (a repacked layout sends groups of four rows
    /// to one kernel and the rest, one by one, to another): the first k requests decoded together,
    /// for k = 1...9, give what they gave beside all the others.
    private static func rowCounts(
        _ engine: LlamaEngine, requests: [GenerationRequest], together: [GenerationResult]
    ) throws -> Item {
        let most = min(9, requests.count)
        var differ: [Int] = []
        for k in 1...most {
            let fewer = try engine.generateNow(Array(requests.prefix(k))).map { try $0.get() }
            if fewer != Array(together.prefix(k)) { differ.append(k) }
        }
        return Item(
            name: "generation at 1 to \(most) sequences == beside \(requests.count - 1) others", passed: differ.isEmpty,
            detail: differ.isEmpty
                ? "every row count of a decoding product up to \(most)"
                : "at \(differ.map(String.init).joined(separator: ", ")) sequences the results differ")
    }
}
