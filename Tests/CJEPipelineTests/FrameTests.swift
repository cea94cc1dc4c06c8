import CJEInference
import CJEPipeline
import CJETestSupport
import Foundation
import Testing

/// What a published data set promises: every sampled row kept and accounted for, the label draw
/// made before any result, each row's provenance, and a decision margin declared up front.
@Suite("The whole frame")
struct FrameTests {
    static let prompts = [
        "What is 2+2?", "Say FAIL-ME please.", "Name a colour.", "Give me a fruit.", "Count to three.",
        "Name a planet.",
    ]

    /// The run's drawn rows (calibration and validation), as "policy/prompt/draw".
    static func drawn(_ run: FakeRun) throws -> Set<String> {
        let population =
            try run.decode(OracleRecord.self, run.run.oraclePopulation(.calibration))
            + run.decode(OracleRecord.self, run.run.oraclePopulation(.validation))
        return Set(population.filter(\.selected).map { "\($0.policy)/\($0.promptId)/\($0.drawIdx ?? 0)" })
    }

    static func frame(_ run: FakeRun, _ policy: String) throws -> [[String: Any]] {
        let text = try String(contentsOf: run.run.frame(policy), encoding: .utf8)
        return try text.split(separator: "\n").map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
    }

    @Test("failed rows stay in the frame, marked with stage and kind; the label draw is the clean run's")
    func missingRows() async throws {
        var failing = try FakeRun("frame-failing")
        try failing.usePrompts(Self.prompts)
        failing.config.maxFailureRate = 1
        failing.config.oracle.fraction = 0.5
        failing.engine.inject("FAIL-ME")
        failing.engine.inject("strict, fair grader", times: 2)
        try await failing.execute()
        var clean = try FakeRun("frame-clean")
        try clean.usePrompts(Self.prompts)
        clean.config.oracle.fraction = 0.5
        try await clean.execute()

        // The draw is made over the frame, whatever failed: the same rows as the clean run's.
        #expect(try Self.drawn(failing) == (try Self.drawn(clean)))

        let summary = try JSONDecoder().decode(LabelSummary.self, from: Data(contentsOf: failing.run.labelDesign))
        var judgeMissing = 0
        for policy in ["p0", "pi_clone", "pi_bad"] {
            let rows = try Self.frame(failing, policy)
            #expect(rows.count == Self.prompts.count)
            let failed = try #require(rows.first { $0["prompt_id"] as? String == "q1" })
            #expect(failed["status"] as? String == "missing" && failed["missing_stage"] as? String == "generate")
            #expect(failed["error"] as? String == "no response: injected fault 'FAIL-ME'")
            #expect(failed["judge_score"] is NSNull)
            let missing = rows.filter { $0["status"] as? String == "missing" }
            judgeMissing += missing.filter { $0["missing_stage"] as? String == "judge" }.count
            let responses = try String(contentsOf: failing.run.freshDraws(policy), encoding: .utf8)
            #expect(responses.split(separator: "\n").count == rows.count - missing.count)
            let counts = try #require(summary.policies[policy])
            #expect(counts.frameRows == rows.count && counts.rows == rows.count - missing.count)
            #expect(counts.missing?.generate == 1)
            // Every row's identity is the same in both runs: it does not depend on what failed.
            let ids = try Self.frame(clean, policy).map { $0["record_id"] as? String }
            #expect(rows.map { $0["record_id"] as? String } == ids)
        }
        #expect(judgeMissing == 2)

        // A drawn row without a response is in the label files, unlabelled, and says why.
        let drawnFailed =
            try failing.decode(OracleRecord.self, failing.run.oracleLabels(.calibration))
            + failing.decode(OracleRecord.self, failing.run.oracleLabels(.validation))
        for record in drawnFailed where record.promptId == "q1" {
            #expect(record.response == nil && record.yTrue == nil)
            #expect(record.error == "no response: injected fault 'FAIL-ME'")
            let row = try #require(try Self.frame(failing, record.policy).first { $0["prompt_id"] as? String == "q1" })
            #expect(row["label"] as? String == "missing")
        }
        // P0's row is not in the logged data set either, and the frame says so.
        let p0 = try #require(try Self.frame(failing, "p0").first { $0["prompt_id"] as? String == "q1" })
        #expect(p0["logged"] as? Bool == false && p0["logged_error"] as? String == "no response")
        // The oracle stage counts only what it was asked to label.
        let oracle = try failing.manifest().stages
        let asked = (oracle["oracle_calibration"]?.total ?? 0) + (oracle["oracle_validation"]?.total ?? 0)
        #expect(asked == drawnFailed.filter { $0.response != nil }.count)
    }

    @Test("stratified: a row without a judge score is drawn at the highest stratum's rate")
    func stratifiedMissing() throws {
        var oracle = OracleConfig()
        oracle.design = .stratified
        oracle.strata = [.init(below: 0.5, rate: 0.2), .init(below: nil, rate: 0.6)]
        let design = LabelDesign(oracle: oracle, logging: "p0", targets: ["pi"], sample: ["a", "b"])
        #expect(design.rate(score: nil) == 0.6 && design.rate(score: 0.1) == 0.2)
        #expect(design.propensity("pi", score: nil, populationCount: 2) == 0.6)
    }

    @Test("record_id is sha256 over prompt id, policy, draw and the judge rubric's version")
    func recordId() {
        let identity = RowIdentity(promptId: "builtin_016", policy: "pi_bad", draw: 0, rubric: "sha256:baaacc04665c")
        let text = "builtin_016\u{1F}pi_bad\u{1F}0\u{1F}sha256:baaacc04665c"
        #expect(identity.recordId == String(Checksum.sha256(Data(text.utf8)).prefix(16)))
        #expect(identity.recordId == "6918ec19a16a0cd9" && identity.clusterId == "builtin_016")
    }

    @Test("the decision margin: declared in the config, kept in the bundle and dataset_info, and fixed")
    func decisionMargin() async throws {
        var run = try FakeRun("margin")
        run.config.decisionMargin = 0.05
        try await run.execute()
        let summary = try JSONDecoder().decode(LabelSummary.self, from: Data(contentsOf: run.run.labelDesign))
        #expect(summary.decisionMargin == 0.05)
        let info = try String(contentsOf: run.run.datasetInfo, encoding: .utf8)
        #expect(info.contains("\"decision_margin\" : 0.05") && info.contains("\"parse_ok\""))
        let script = try String(contentsOf: run.run.analyzeScript, encoding: .utf8)
        #expect(script.contains("Decision margin declared before the run"))
        let page = try String(contentsOf: try ReportPage.write(run.run), encoding: .utf8)
        #expect(page.contains("±0.05 on the 0-1 label scale"))
        let before = try run.outputs()
        run.config.decisionMargin = 0.1
        await #expect {
            try await run.execute()
        } throws: { error in
            guard case PipelineError.fingerprintMismatch(_, let changes) = error else { return false }
            return changes == ["config 'decision_margin' changed"]
        }
        #expect(try run.outputs() == before)
    }

    @Test("a margin that is not a number in (0, 1) is refused, naming the key")
    func badMargin() throws {
        for (yaml, expected) in [
            ("decision_margin: abc\n", "decision_margin"),
            ("decision_margin: 1.5\n", "'decision_margin' must be a number in (0, 1)"),
            ("decision_margin: 0\n", "'decision_margin' must be a number in (0, 1)"),
        ] {
            #expect {
                _ = try PipelineConfig.parse(yaml, path: "margin.yaml")
            } throws: { error in
                error.localizedDescription.contains(expected) && error.localizedDescription.contains("margin.yaml")
            }
        }
    }
}
