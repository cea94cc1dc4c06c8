public import Foundation

/// Writes the data set in the CJE library's formats: `cje/cje_dataset.jsonl` (logged P0 data with
/// log probs under every target policy) and `cje/responses/{policy}_responses.jsonl` (fresh draws).
///
/// The judge score exported is the exact-distribution mean (with its variance): it exists for
/// every judged response, where the greedy score can be unparseable. Rows without a judge score
/// or without a P0 log prob are left out (counted in the report), never filled in.
public struct ExportStage: Sendable {
    public let config: PipelineConfig
    public let run: RunDirectory

    public init(config: PipelineConfig, run: RunDirectory) {
        self.config = config
        self.run = run
    }

    public var dataset: URL { run.root.appendingPathComponent("cje/cje_dataset.jsonl") }
    public func freshDraws(_ policy: String) -> URL {
        run.root.appendingPathComponent("cje/responses/\(policy)_responses.jsonl")
    }

    /// Returns (rows written, rows left out) over the logged data set and the fresh draws.
    @discardableResult
    public func execute() throws -> (written: Int, leftOut: Int) {
        let logging = config.loggingPolicy
        let scored =
            try JSONLines.decode(ScoredRecord.self, from: run.scored("p0", "uncertainty"))
            + JSONLines.decode(ScoredRecord.self, from: run.scored("targets", "uncertainty"))
        let logprobs = Dictionary(
            uniqueKeysWithValues: try JSONLines.decode(LogprobsRecord.self, from: run.logprobs).map {
                ($0.promptId, $0)
            })
        var labels: [String: Double] = [:]
        for task in ["calibration", "validation"] {
            for record in try JSONLines.decode(OracleRecord.self, from: run.oracleLabels(task)) {
                if let y = record.yTrue { labels[record.promptId + "\u{0}" + record.policy] = y }
            }
        }
        var written = 0
        var leftOut = 0
        var logged: [[String: Any]] = []
        var fresh: [String: [[String: Any]]] = [:]
        for record in scored {
            guard let response = record.response, let score = record.judgeScore else {
                leftOut += 1
                continue
            }
            var metadata: [String: Any] = ["judge_score": score, "judge_method": record.judgeMethod]
            if let variance = record.judgeScoreVariance { metadata["judge_score_variance"] = variance }
            let label = labels[record.promptId + "\u{0}" + record.policy]
            if let label { metadata["oracle_label"] = label }
            if record.policy == logging {
                guard let lp = logprobs[record.promptId], let base = lp.logprobs[logging] ?? nil else {
                    leftOut += 1
                    continue
                }
                var targets: [String: Any] = [:]
                for policy in config.policies where policy.name != logging {
                    targets[policy.name] = (lp.logprobs[policy.name] ?? nil) ?? NSNull()
                }
                logged.append([
                    "prompt_id": record.promptId, "prompt": record.prompt, "response": response,
                    "base_policy_logprob": base, "target_policy_logprobs": targets, "metadata": metadata,
                ])
            } else {
                var row: [String: Any] = [
                    "prompt_id": record.promptId, "target_policy": record.policy, "prompt": record.prompt,
                    "response": response, "judge_score": score, "draw_idx": 0,
                ]
                if let variance = record.judgeScoreVariance { row["judge_score_variance"] = variance }
                if let label { row["oracle_label"] = label }
                fresh[record.policy, default: []].append(row)
            }
            written += 1
        }
        try AtomicFile.write(try Self.jsonl(logged), to: dataset)
        for policy in config.policies where policy.name != logging {
            try AtomicFile.write(try Self.jsonl(fresh[policy.name] ?? []), to: freshDraws(policy.name))
        }
        return (written, leftOut)
    }

    private static func jsonl(_ rows: [[String: Any]]) throws -> Data {
        var data = Data()
        for row in rows {
            data.append(
                try JSONSerialization.data(withJSONObject: row, options: [.sortedKeys, .withoutEscapingSlashes]))
            data.append(UInt8(ascii: "\n"))
        }
        return data
    }
}
