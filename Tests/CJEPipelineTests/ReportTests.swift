import CJEInference
import CJEPipeline
import Foundation
import Testing

/// The numbers behind each chart of the report, recomputed by hand from a fake run's files, and
/// the page's shape (every section, a chart in each, nothing fetched).
@Suite("Report")
struct ReportTests {
    @Test("weights, ESS, heaviest items, judge and oracle numbers, estimates and stages match the run's files")
    func numbers() async throws {
        let run = try await PipelineTests.reference().run
        let report = try RunReport.load(run.run)
        let logprobs = try run.decode(LogprobsRecord.self, run.run.logprobs)
        let p0 = try run.decode(ScoredRecord.self, run.run.scored(.p0, .deterministic))
        let judge = Dictionary(uniqueKeysWithValues: p0.map { ($0.promptId, $0.judgeScore!) })

        #expect(report.glance.n == 6 && report.glance.seed == 3)
        #expect(report.glance.policies.map(\.name) == ["p0", "pi_clone", "pi_bad"])
        #expect(report.glance.validationPassed == true)
        #expect(
            report.glance.failures.map(\.stage) == [
                "generate", "logprobs", "judge", "oracle_calibration", "oracle_validation",
            ])
        #expect(report.weights.map(\.policy) == ["pi_clone", "pi_bad"])

        for w in report.weights {
            let logWeights = logprobs.map { $0.logprobs[w.policy]!! - $0.logprobs["p0"]!! }
            #expect(w.logWeights == logWeights)
            let weights = logWeights.map { exp($0) }
            let total = weights.reduce(0, +)
            let ess = total * total / weights.reduce(0) { $0 + $1 * $1 }
            #expect(abs(w.effectiveSampleSize! - ess) < 1e-9)
            #expect(abs(w.largestShare! - weights.max()! / total) < 1e-12)
            #expect(w.heaviest.count == 5)
            #expect(w.heaviest.map(\.share) == w.heaviest.map(\.share).sorted(by: >))
            #expect(abs(w.heaviest[0].share - w.largestShare!) < 1e-12)
            let snips = zip(logprobs, weights).reduce(0.0) { $0 + $1.1 * judge[$1.0.promptId]! } / total
            let scores = report.scores.first { $0.policy == w.policy }!
            #expect(abs(scores.snips! - snips) < 1e-12)
            #expect(scores.snipsLow! <= scores.snips! + 1e-12 && scores.snips! <= scores.snipsHigh! + 1e-12)
        }
        // The clone's weights are exactly 1: ESS = n, every share 1/n, log weights all 0.
        let clone = report.weights[0]
        #expect(clone.logWeights.allSatisfy { $0 == 0 } && clone.effectiveSampleSize == 6)

        // Judge against oracle: every labelled response with a judge score is in one bin.
        let labelled =
            (try run.decode(OracleRecord.self, run.run.oracleLabels(.calibration))
            + run.decode(OracleRecord.self, run.run.oracleLabels(.validation))).filter {
                $0.selected && $0.yTrue != nil
            }
        #expect(report.labelledPairs == labelled.count)
        #expect(report.reliability.reduce(0) { $0 + $1.count } == labelled.count)

        // The interval is seeded: the same run gives the same page.
        let again = try RunReport.load(run.run)
        #expect(again.scores.map(\.snipsLow) == report.scores.map(\.snipsLow))
        #expect(ReportPage.html(again, title: "x") == ReportPage.html(report, title: "x"))

        let manifest = try run.manifest()
        #expect(
            report.stages.map(\.stage) == ["generate", "logprobs", "judge", "oracle_calibration", "oracle_validation"])
        #expect(report.stages.first?.items == manifest.stages["generate"]?.workItems)
        #expect(report.sampledScoredGap == 0 && report.gapCount == 6)
    }

    @Test("Spearman's rho with ties, and the bootstrap's interval, on numbers done by hand")
    func statistics() {
        #expect(RunReport.spearman([1, 2, 3, 4], [10, 20, 30, 40]) == 1)
        #expect(RunReport.spearman([1, 2, 3, 4], [4, 3, 2, 1]) == -1)
        // Ranks with ties: x = [1, 2.5, 2.5, 4], y = [1, 2, 3, 4]: rho = 4.5 / sqrt(4.5 * 5).
        let rho = RunReport.spearman([0.1, 0.5, 0.5, 0.9], [1, 2, 3, 4])!
        #expect(abs(rho - 4.5 / (4.5 * 5).squareRoot()) < 1e-12)
        var rng = SplitMix64(seed: 1)
        let same = RunReport.bootstrap([(1, 0.5), (1, 0.5), (2, 0.5)], &rng)
        #expect(same.0 == 0.5 && same.1 == 0.5)
        #expect(RunReport.selfNormalised([(1, 0), (3, 1)]) == 0.75)
    }

    @Test("the page: every section with its caption and chart, tables as text, nothing it could fetch")
    func page() async throws {
        let run = try await PipelineTests.reference().run
        let url = try ReportPage.write(run.run)
        let html = try String(contentsOf: url, encoding: .utf8)
        for section in ["direct", "glance", "weights", "judge", "oracle", "estimates", "stages"] {
            #expect(html.contains("<section id=\"\(section)\" data-section=\"\(section)\">"))
        }
        // Direct mode's comparison leads the page.
        #expect(html.components(separatedBy: "<section id=").dropFirst().first?.hasPrefix("\"direct\"") == true)
        #expect(html.components(separatedBy: "<svg class=\"chart\"").count - 1 == 1 + 2 + 6 + 1 + 1 + 1)
        #expect(html.contains("default-src 'none'"))
        for fetch in ["http://", "https://", "src=", "@import", "url("] { #expect(!html.contains(fetch)) }
        #expect(html.contains("<td class=\"num\">0.000</td>"), "numbers are in the tables as text")
    }

    @Test("the calibration of Direct mode's preview: pool-adjacent-violators, interpolated, flat beyond the ends")
    func isotonic() {
        // (0.1, 0.2) and (0.3, 0.0) violate the order: pooled to 0.1; then 0.5 and 0.9.
        let fit = IsotonicFit([(0.1, 0.2), (0.3, 0.0), (0.5, 0.5), (0.9, 0.9), (0.9, 0.7)])
        #expect(fit.predict(0.1) == 0.1 && fit.predict(0.3) == 0.1)
        #expect(abs(fit.predict(0.4) - 0.3) < 1e-12 && fit.predict(0.9) == 0.8)
        #expect(fit.predict(0.0) == 0.1 && fit.predict(1.0) == 0.8)
    }

    @Test("a model's source as the page shows it: a Hub reference with a short commit, or a file name")
    func modelSource() {
        let commit = "0123456789abcdef0123456789abcdef01234567"
        let hub = ModelSource(
            path: "/h/models--o--n/snapshots/\(commit)/m.gguf", hub: "hf:o/n/m.gguf@main", commit: commit)
        #expect(hub.short == "hf:o/n/m.gguf@main at commit 0123456789ab")
        #expect(
            hub.description == "/h/models--o--n/snapshots/\(commit)/m.gguf (hf:o/n/m.gguf@main at commit \(commit))")
        #expect(
            ModelSource(path: "/models/SmolLM2-135M-Instruct.Q4_1.gguf").short == "SmolLM2-135M-Instruct.Q4_1.gguf")
    }
}
