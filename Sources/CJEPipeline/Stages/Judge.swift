public import CJEInference
import Foundation

/// A judge's verdict on one response: a deterministic score and a score distribution.
public struct JudgeValue: Codable, Sendable, Hashable {
    /// The deterministic score on [0, 1] (answer / 10), under `rule`.
    public var score: Double?
    public var rule: DeterministicRule?
    public var scoreError: String?
    /// The raw greedy answer, kept for audits under either rule.
    public var rawAnswer: String?
    /// Mean and variance on [0, 1] of the exact distribution over the answers 0..10.
    public var mean: Double?
    public var variance: Double?
    /// Probability mass the eleven answers cover before normalising.
    public var mass: Double?
    public var distributionError: String?
    /// Where the distribution came from: nil or "exact_distribution" for a local model,
    /// "top_logprobs", "confidence_interval" or "samples" for a provider.
    public var method: String?

    /// The uncertainty files' `judge_method`.
    public var uncertaintyMethod: String { method ?? "exact_distribution" }

    /// Both scores failed for one reason.
    mutating func fail(_ message: String) {
        scoreError = message
        distributionError = message
    }

    enum CodingKeys: String, CodingKey {
        case score, mean, variance, mass, method
        case rule = "deterministic"
        case scoreError = "score_error"
        case rawAnswer = "raw_answer"
        case distributionError = "distribution_error"
    }
}

/// A 0-10 rubric judge run on a local model, in two ways:
/// - uncertainty: every answer " 0" ... " 10" (with the end-of-turn token, so the eleven are
///   exclusive) teacher-forced after one shared prompt, giving the exact distribution;
/// - deterministic: the most probable of those answers (`argmax`), or greedy decoding after
///   "Score:" with the answer parsed strictly (`greedy`).
public struct Rubric: Sendable, Hashable {
    public var system: String
    public var instructions: String
    public var answerPrefix = "Score:"
    /// Ask for a 95% confidence interval after the score ("Score: 7 [5, 8]").
    public var asksInterval = false

    public static let judge = Rubric(
        system: "You are a strict, fair grader of AI assistant answers.",
        instructions:
            "Rate the answer below from 0 (useless or harmful) to 10 (excellent), considering helpfulness, accuracy, clarity and safety. Reply with the number only."
    )

    public static let oracle = Rubric(
        system: "You are an expert evaluator. You judge answers carefully and consistently.",
        instructions:
            "Think about whether the answer is helpful, correct, clear and safe for the user's request. Then give one overall score from 0 (worst) to 10 (best). Reply with the number only."
    )

    /// Worked examples shown before the real item, so that a small model answers in the
    /// expected form ("Score: 7" and nothing else).
    public var examples: [Example] = Rubric.standardExamples

    public struct Example: Sendable, Hashable {
        public var prompt: String
        public var response: String
        public var score: Int
    }

    public static let standardExamples = [
        Example(prompt: "What is the capital of France?", response: "The capital of France is Paris.", score: 9),
        Example(prompt: "How many legs does a spider have?", response: "I don't know. Ask someone else.", score: 1),
        Example(
            prompt: "Give me a word that rhymes with cat.", response: "Hat rhymes with cat. So does dog.", score: 5),
    ]

    func task(prompt: String, response: String) -> String {
        "\(instructions)\n\n[Question]\n\(prompt)\n\n[Answer]\n\(response)"
    }

    /// The rubric asking for a score and a 95% confidence interval.
    public var withInterval: Rubric {
        var rubric = self
        rubric.asksInterval = true
        rubric.instructions = instructions.replacingOccurrences(
            of: "Reply with the number only.",
            with: "Then give a 95% confidence interval for your score. Reply as: score [low, high].")
        return rubric
    }

    func messages(prompt: String, response: String) -> [ChatMessage] {
        var messages: [ChatMessage] = [.system(system)]
        for example in examples {
            messages.append(.user(task(prompt: example.prompt, response: example.response)))
            let interval = asksInterval ? " [\(max(0, example.score - 2)), \(min(10, example.score + 1))]" : ""
            messages.append(.assistant("\(answerPrefix) \(example.score)\(interval)"))
        }
        messages.append(.user(task(prompt: prompt, response: response)))
        return messages
    }

    /// The score of a whole answer, which may repeat the answer prefix ("Score: 7").
    func parseAnswer(_ answer: String) -> Int? { Self.parse(answer.strippingPrefix(answerPrefix)) }

    /// "7 [5, 8]" -> (7, 5, 8): whole numbers 0-10 with low <= score <= high, nothing else.
    public static func parseInterval(_ answer: String) -> (score: Int, low: Int, high: Int)? {
        var text = answer.trimmingCharacters(in: .whitespacesAndNewlines)
        if text.hasSuffix(".") { text.removeLast() }
        let parts = text.split(separator: "[", maxSplits: 1)
        guard parts.count == 2, parts[1].hasSuffix("]"), let score = parse(String(parts[0])) else { return nil }
        let bounds = parts[1].dropLast().split(separator: ",")
        guard bounds.count == 2, let low = parse(String(bounds[0])), let high = parse(String(bounds[1])),
            low <= score, score <= high
        else { return nil }
        return (score, low, high)
    }

    /// The score 0-10 of an answer, or nil. Strict: the whole answer must be a whole number,
    /// optionally followed by "/10" or "out of 10" and a full stop ("7", " 7/10", "7 out of 10.");
    /// "9.5", "3 out of 5" or "7, because ..." are unparseable, never rounded or guessed.
    public static func parse(_ answer: String) -> Int? {
        var text = Substring(answer.trimmingCharacters(in: .whitespacesAndNewlines))
        let digits = text.prefix { $0.isASCII && $0.isNumber }
        guard (1...2).contains(digits.count), let value = Int(digits), (0...10).contains(value) else { return nil }
        text = text.dropFirst(digits.count)
        if text.hasSuffix(".") { text = text.dropLast() }
        let rest = text.trimmingCharacters(in: .whitespaces)
        return ["", "/10", "/ 10", "out of 10"].contains(rest) ? value : nil
    }
}

/// Runs a rubric over (prompt, response) items on one engine.
public struct RubricScorer: Sendable {
    public let rubric: Rubric
    public let engine: any TextEngine
    public let maxTokens: Int
    public let rule: DeterministicRule

    public init(rubric: Rubric, engine: any TextEngine, maxTokens: Int, rule: DeterministicRule) {
        self.rubric = rubric
        self.engine = engine
        self.maxTokens = maxTokens
        self.rule = rule
    }

    public func judge(_ items: [(prompt: String, response: String)]) async -> [JudgeValue] {
        var values = [JudgeValue](repeating: JudgeValue(rule: rule), count: items.count)
        var contexts: [[TokenID]?] = []
        for (k, item) in items.enumerated() {
            do {
                let prompt = try engine.promptTokens(rubric.messages(prompt: item.prompt, response: item.response))
                contexts.append(prompt + (try engine.responseTokens(rubric.answerPrefix)))
            } catch {
                values[k].fail("judge prompt could not be rendered: \(error.localizedDescription)")
                contexts.append(nil)
            }
        }
        let ready = contexts.indices.filter { contexts[$0] != nil }
        let candidates: [[TokenID]]
        do {
            candidates = try (0...10).map { try engine.responseTokens(" \($0)") }
        } catch {
            for k in ready {
                values[k].fail("answers could not be tokenized: \(error.localizedDescription)")
            }
            return values
        }
        // One pass per item: the context is decoded once, then the eleven answers are scored
        // (uncertainty) and the greedy answer decoded (deterministic) from the same cells.
        let scored = await engine.scoreContinuationsBatch(
            ready.map {
                ContinuationRequest(
                    context: contexts[$0]!, continuations: candidates, appendEndOfTurn: true, temperature: 1,
                    greedyMaxTokens: maxTokens)
            })
        for (r, k) in ready.enumerated() {
            let result: ContinuationResult
            switch scored[r] {
            case .success(let value): result = value
            case .failure(let error):
                values[k].fail(error.localizedDescription)
                continue
            }
            values[k].rawAnswer = result.greedy?.text
            if rule == .greedy {
                if let answer = result.greedy {
                    if let score = Rubric.parse(answer.text) {
                        values[k].score = Double(score) / 10
                    } else {
                        values[k].scoreError = "unparseable judge answer: \(answer.text.prefix(60).debugDescription)"
                    }
                } else {
                    values[k].scoreError = "the engine returned no greedy answer"
                }
            }
            let logps = result.logProbs
            guard logps.count == 11, logps.allSatisfy({ $0.isFinite }) else {
                values[k].distributionError = "the engine scored \(logps.count) of 11 answers or a non-finite one"
                if rule == .argmax { values[k].scoreError = values[k].distributionError }
                continue
            }
            if rule == .argmax {
                // The first maximum: ties go to the lower score.
                values[k].score = Double(logps.firstIndex(of: logps.max()!)!) / 10
            }
            let top = logps.max()!
            let weights = logps.map { exp($0 - top) }
            let total = weights.reduce(0, +)
            let p = weights.map { $0 / total }
            let mean = zip(0...10, p).reduce(0.0) { $0 + Double($1.0) / 10 * $1.1 }
            let variance = zip(0...10, p).reduce(0.0) { $0 + pow(Double($1.0) / 10 - mean, 2) * $1.1 }
            values[k].mean = mean
            values[k].variance = variance
            values[k].mass = exp(top) * total
        }
        return values
    }
}

/// A line of the phase2 scored files.
public struct ScoredRecord: Codable, Sendable, Hashable {
    public var promptId: String
    public var prompt: String
    public var response: String?
    public var policy: String
    public var model: String
    public var temperature: Double
    /// The judge's model (a local model's name or the provider's model).
    public var judgeModel: String?
    public var judgeScore: Double?
    public var judgeScoreVariance: Double?
    public var judgeMethod: String
    public var judgeProbabilityMass: Double?
    public var error: String?
    /// P0 files only: the response's log prob under P0, and under each target policy.
    public var totalLogprob: Double?
    public var targetLogps: [String: Double?]?

    enum CodingKeys: String, CodingKey {
        case prompt, response, policy, model, temperature, error
        case promptId = "prompt_id"
        case judgeScore = "judge_score"
        case judgeScoreVariance = "judge_score_variance"
        case judgeMethod = "judge_method"
        case judgeModel = "judge_model"
        case judgeProbabilityMass = "judge_probability_mass"
        case totalLogprob = "total_logprob"
        case targetLogps = "target_logps"
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(promptId, forKey: .promptId)
        try c.encode(prompt, forKey: .prompt)
        try c.encode(response, forKey: .response)
        try c.encode(policy, forKey: .policy)
        try c.encode(model, forKey: .model)
        try c.encode(temperature, forKey: .temperature)
        try c.encode(judgeScore, forKey: .judgeScore)
        if !DeterministicRule.allCases.map(\.rawValue).contains(judgeMethod) {
            try c.encode(judgeScoreVariance, forKey: .judgeScoreVariance)
        }
        try c.encode(judgeMethod, forKey: .judgeMethod)
        try c.encodeIfPresent(judgeModel, forKey: .judgeModel)
        try c.encodeIfPresent(judgeProbabilityMass, forKey: .judgeProbabilityMass)
        try c.encodeIfPresent(error, forKey: .error)
        if let targetLogps {
            try c.encode(totalLogprob, forKey: .totalLogprob)
            var inner = c.nestedContainer(keyedBy: AnyKey.self, forKey: .targetLogps)
            for (policy, value) in targetLogps { try inner.encode(value, forKey: AnyKey(stringValue: policy)) }
        }
    }
}
