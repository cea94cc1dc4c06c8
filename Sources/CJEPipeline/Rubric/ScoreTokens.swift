public import CJEInference
import Foundation

/// Reads the score distribution out of an answer's per-token top log probs.
///
/// At the answer's first digit token, each alternative that is a whole number 0-10 (after
/// leading spaces) gives that score's probability. When a tokenizer writes 10 as "1" + "0"
/// (no alternative is "10"), the "1" alternative is split by what follows it: P(10) =
/// P("1") P("0" | "1"), P(1) = P("1") P(not a digit | "1"), over the listed alternatives only,
/// so unlisted mass is left out (`mass` says how much was covered), never guessed.
public struct ScoreTokens: Sendable {
    public typealias Top = ChatCompletion.TopToken
    private var weights = [Double](repeating: 0, count: 11)
    public private(set) var problem: String?
    /// The answer's text before its first digit (for a prefilled follow-up).
    public private(set) var textBeforeDigit = ""
    /// The probability of the "1" token still to split between 1 and 10.
    private var pendingOne = 0.0
    /// The top alternatives after the answer's "1", when the answer went through "1".
    public private(set) var observedAfterOne: [Top]?

    public init(tokens: [ChatCompletion.TokenLogprob]) {
        guard let i = tokens.firstIndex(where: { $0.token.drop(while: { $0 == " " }).first?.isNumber ?? false }) else {
            problem = "the answer has no score token"
            return
        }
        textBeforeDigit = tokens[..<i].map(\.token).joined() + tokens[i].token.prefix { $0 == " " }
        let here = Self.alternatives(tokens[i])
        let wholeTen = here.contains { Self.digits($0.token) == "10" }
        for top in here {
            guard let digits = Self.digits(top.token), let score = Int(digits), (0...10).contains(score) else {
                continue
            }
            if score == 1 && !wholeTen {
                pendingOne += exp(top.logprob)
            } else {
                weights[score] += exp(top.logprob)
            }
        }
        if pendingOne > 0, Self.digits(tokens[i].token) == "1" {
            observedAfterOne = i + 1 < tokens.count ? Self.alternatives(tokens[i + 1]) : nil
        }
    }

    /// The "1" alternative still has to be split by what follows it.
    public var needsNextStep: Bool { pendingOne > 0 }

    /// Splits the pending "1" by `next`, the alternatives after it (each token once, as
    /// `alternatives` gives them).
    public mutating func split(next: [Top]) {
        var zero = 0.0
        var end = 0.0
        for top in next {
            if top.token == "0" {
                zero += exp(top.logprob)
            } else if !(top.token.first?.isNumber ?? false) {
                end += exp(top.logprob)
            }
        }
        weights[10] += pendingOne * zero
        weights[1] += pendingOne * end
        pendingOne = 0
    }

    /// The unnormalised probabilities of the scores 0..10, once nothing is pending.
    public var probabilities: [Double]? { problem == nil && pendingOne == 0 ? weights : nil }

    /// The digits of a token that is spaces then a whole number, else nil.
    public static func digits(_ token: String) -> String? {
        let trimmed = token.drop { $0 == " " }
        guard !trimmed.isEmpty, trimmed.count <= 2, trimmed.allSatisfy({ $0.isASCII && $0.isNumber }) else {
            return nil
        }
        return String(trimmed)
    }

    /// A step's alternatives, the chosen token included, each token once.
    public static func alternatives(_ step: ChatCompletion.TokenLogprob) -> [Top] {
        var seen = Set<String>()
        return (step.topLogprobs + [Top(token: step.token, logprob: step.logprob)]).filter {
            seen.insert($0.token).inserted
        }
    }
}
