public import CJEInference

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
    /// Where the distribution came from: nil (or `exactDistribution`) for a local model, the
    /// configured `UncertaintyMethod` for a provider.
    public var method: JudgeMethod?
    /// `.permanent` when a failure would come again the same way (never retried).
    public var errorKind: FailureKind?

    /// Whether the greedy answer parsed as a score under `rubric` (nil when there was none): kept
    /// on every scored row as `parse_ok`, whichever rule made the score.
    func parseOk(_ rubric: Rubric) -> Bool? { rawAnswer.map { rubric.parseAnswer($0) != nil } }

    /// The uncertainty files' `judge_method`.
    public var uncertaintyMethod: JudgeMethod { method ?? .exactDistribution }

    /// The deterministic score read from a greedy `answer` (kept as `rawAnswer`) by `parse`: a
    /// whole number 0-10, or null and an error quoting the answer.
    mutating func read(answer: String, parse: (String) -> Int?) {
        rawAnswer = answer
        if let score = parse(answer) {
            self.score = Double(score) / 10
        } else {
            scoreError = "unparseable judge answer: \(answer.prefix(60).debugDescription)"
        }
    }

    /// Both scores failed for one reason.
    mutating func fail(_ message: String, kind: FailureKind = .transient) {
        scoreError = message
        distributionError = message
        errorKind = FailureKind.recorded(kind)
    }

    /// Both scores failed with `error` (its message after `prefix`, and its kind).
    mutating func fail(_ error: any Error, prefix: String = "") {
        fail(prefix + error.localizedDescription, kind: FailureKind(of: error))
    }

    enum CodingKeys: String, CodingKey {
        case score, mean, variance, mass, method
        case rule = "deterministic"
        case scoreError = "score_error"
        case rawAnswer = "raw_answer"
        case distributionError = "distribution_error"
        case errorKind = "error_kind"
    }
}
