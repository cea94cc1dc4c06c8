public import CJEInference
import Foundation

/// A 0-10 rubric: the judge's (or the oracle's) instructions, worked examples and the strict
/// reading of its answers. Local and provider scorers both render it with `messages`.
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

    /// "sha256:" and the first 12 hex digits of everything the rubric shows and reads: a
    /// changed instruction, example or answer form is another version.
    public var version: String {
        var text = [system, instructions, answerPrefix, asksInterval ? "interval" : "score"]
        for example in examples { text += [example.prompt, example.response, String(example.score)] }
        return "sha256:" + Checksum.sha256(Data(text.joined(separator: "\u{0}").utf8)).prefix(12)
    }

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

    public func messages(prompt: String, response: String) -> [ChatMessage] {
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
    func parseAnswer(_ answer: String) -> Int? { Self.parse(withoutPrefix(answer)) }

    /// An answer without leading blanks and the answer prefix, if it repeats it.
    func withoutPrefix(_ answer: String) -> String {
        let trimmed = answer.drop { $0 == " " || $0 == "\n" }
        return trimmed.hasPrefix(answerPrefix) ? String(trimmed.dropFirst(answerPrefix.count)) : String(trimmed)
    }

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
