import CJEInference
import CJEPipeline
import CJEProviders
import Foundation
import Testing

/// How judge answers and provider top log probs are read: strictly, nothing guessed.
@Suite("Rubric answers")
struct RubricTests {
    @Test(
        "strict parsing of a judge's answer",
        arguments: [
            ("7", 7), (" 10 out of 10", 10), ("0", 0), ("8/10", 8), ("6.", 6), (" 9.9 out of 1", nil),
            ("3.5 out of 5", nil),
            ("11", nil), ("seven", nil), ("7, because it is good", nil), ("", nil), ("Score 5", nil),
        ] as [(String, Int?)])
    func parse(answer: String, expected: Int?) {
        #expect(Rubric.parse(answer) == expected)
    }

    @Test("interval answers are parsed strictly")
    func intervals() {
        #expect(Rubric.parseInterval("7 [5, 8]")! == (7, 5, 8))
        #expect(Rubric.parseInterval(" 10 [9,10].")! == (10, 9, 10))
        for bad in ["7", "7 [8, 9]", "7 [5, 11]", "7 [5-8]", "7 [5, 8] because", "[5, 8]"] {
            #expect(Rubric.parseInterval(bad) == nil, "\(bad)")
        }
    }

    @Test("top log probs: whole-number tokens, a split of 1 and 10, and an ambiguity left open")
    func scoreTokens() {
        typealias Step = ChatCompletion.TokenLogprob
        typealias Top = ChatCompletion.TopToken
        let ln = { (p: Double) in log(p) }
        // A tokenizer with a "10" token: read directly.
        let whole = ScoreTokens(tokens: [
            Step(token: "Score:", logprob: 0, topLogprobs: []),
            Step(
                token: " 7", logprob: ln(0.5),
                topLogprobs: [
                    Top(token: " 7", logprob: ln(0.5)), Top(token: " 10", logprob: ln(0.3)),
                    Top(token: " 1", logprob: ln(0.1)), Top(token: " seven", logprob: ln(0.05)),
                ]),
        ])
        #expect(!whole.needsNextStep && whole.textBeforeDigit == "Score: ")
        let p = whole.probabilities!
        #expect(abs(p[7] - 0.5) < 1e-12 && abs(p[10] - 0.3) < 1e-12 && abs(p[1] - 0.1) < 1e-12)

        // Single digits, the answer went through "1": what follows splits it.
        let split = ScoreTokens(tokens: [
            Step(token: " ", logprob: 0, topLogprobs: []),
            Step(
                token: "1", logprob: ln(0.6),
                topLogprobs: [Top(token: "1", logprob: ln(0.6)), Top(token: "8", logprob: ln(0.3))]),
            Step(
                token: "0", logprob: ln(0.75),
                topLogprobs: [
                    Top(token: "0", logprob: ln(0.75)), Top(token: "<|im_end|>", logprob: ln(0.2)),
                    Top(token: "5", logprob: ln(0.05)),
                ]),
        ])
        var resolved = split
        #expect(resolved.needsNextStep && resolved.observedAfterOne != nil)
        resolved.split(next: resolved.observedAfterOne!)
        let q = resolved.probabilities!
        #expect(abs(q[10] - 0.45) < 1e-12 && abs(q[1] - 0.12) < 1e-12 && abs(q[8] - 0.3) < 1e-12)

        // Single digits, the answer did not go through "1": nothing is guessed.
        let open = ScoreTokens(tokens: [
            Step(
                token: "8", logprob: ln(0.7),
                topLogprobs: [Top(token: "8", logprob: ln(0.7)), Top(token: "1", logprob: ln(0.2))])
        ])
        #expect(open.needsNextStep && open.observedAfterOne == nil && open.probabilities == nil)
        #expect(ScoreTokens(tokens: [Step(token: "Great", logprob: 0, topLogprobs: [])]).problem != nil)
    }
}
