import CJEPipeline
import Foundation
import Testing

/// Each of validate's named checks on its own, on the reference run's records and on copies
/// with one thing broken.
@Suite("Validation checks")
struct ValidationChecksTests {
    static func data() async throws -> (
        responses: [ResponsesRecord], logprobs: [LogprobsRecord], judged: JudgedRecords, oracle: OracleLabels,
        config: PipelineConfig
    ) {
        let data = try await ValidateExportTests.data()
        let config = try await ValidateExportTests.reference().config
        return (data.responses, data.logprobs, data.judged, data.oracle, config)
    }

    @Test("joins: the log probs list the responses' prompts in order")
    func joins() async throws {
        let data = try await Self.data()
        #expect(ValidationChecks.joins(responses: data.responses, logprobs: data.logprobs) == .init())
        let swapped = Array(data.logprobs.reversed())
        #expect(
            ValidationChecks.joins(responses: data.responses, logprobs: swapped).failures == [
                "logprobs.jsonl does not list the prompts of all_responses.jsonl in order"
            ])
    }

    @Test("log probs: positive and exactly 0 fail, a missing one is not a failure here")
    func logProbs() async throws {
        let data = try await Self.data()
        #expect(ValidationChecks.logProbs(data.logprobs, policies: data.config.policies) == .init())
        var broken = data.logprobs
        broken[0].logprobs["pi_bad"] = .some(0.5)
        broken[1].logprobs["pi_bad"] = .some(0)
        broken[2].logprobs["pi_bad"] = .some(nil)
        let found = ValidationChecks.logProbs(broken, policies: data.config.policies)
        #expect(
            found.failures == [
                "\(broken[0].promptId)/pi_bad: log prob 0.5 is not finite and <= 0",
                "\(broken[1].promptId)/pi_bad: log prob is exactly 0 for a non-empty response",
            ])
    }

    @Test("clone weights: a clone whose log prob is not P0's own fails")
    func cloneWeights() async throws {
        let data = try await Self.data()
        #expect(ValidationChecks.cloneWeights(data.logprobs, config: data.config) == .init())
        var broken = data.logprobs
        broken[3].logprobs["pi_clone"] = .some(broken[3].logprobs["pi_clone"]!! - 0.25)
        let failures = ValidationChecks.cloneWeights(broken, config: data.config).failures
        #expect(failures.count == 1 && failures[0].hasPrefix("\(broken[3].promptId): pi_clone weight is "))
    }

    @Test("judge scores: outside [0, 1] and a negative variance fail")
    func judgeScores() async throws {
        let data = try await Self.data()
        #expect(ValidationChecks.judgeScores(data.judged) == .init())
        var broken = data.judged
        broken.p0Deterministic[0].judgeScore = -0.1
        broken.targetsUncertainty[0].judgeScoreVariance = -1
        let failures = ValidationChecks.judgeScores(broken).failures
        #expect(failures.count == 2)
        #expect(
            failures[0].hasSuffix("judge score -0.1 outside [0, 1]") && failures[1].hasSuffix("judge variance -1.0 < 0")
        )
    }

    @Test("calibration labels: none, and failed ones, are warnings")
    func calibrationLabels() async throws {
        let data = try await Self.data()
        #expect(ValidationChecks.calibrationLabels(data.oracle.calibration) == .init())
        #expect(ValidationChecks.calibrationLabels([]).warnings == ["no calibration oracle labels"])
        var failed = data.oracle.calibration
        let first = try #require(failed.firstIndex { $0.selected })
        failed[first].yTrue = nil
        let selected = failed.filter(\.selected).count
        #expect(ValidationChecks.calibrationLabels(failed).warnings == ["1 of \(selected) calibration labels failed"])
    }

    @Test("null rates: each policy's missing log probs and the missing deterministic scores")
    func nullRates() async throws {
        let data = try await Self.data()
        var broken = data.logprobs
        broken[0].logprobs["pi_bad"] = .some(nil)
        var judged = data.judged
        judged.targetsDeterministic[0].judgeScore = nil
        let rates = ValidationChecks.nullRates(logprobs: broken, judged: judged, config: data.config)
        #expect(rates["logprobs/pi_bad"] == 1.0 / Double(broken.count))
        #expect(rates["logprobs/p0"] == 0 && rates["logprobs/pi_clone"] == 0)
        #expect(rates["judge_deterministic"] == 1.0 / Double(judged.deterministic.count))
    }
}
