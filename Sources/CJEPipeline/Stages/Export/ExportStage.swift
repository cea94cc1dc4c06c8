import Foundation

/// Writes the data set in the CJE library's formats: `cje/cje_dataset.jsonl` (logged P0 data with
/// log probs under every target policy) and `cje/responses/{policy}_responses.jsonl`: the fresh draws
/// of every policy, the logging policy's own responses included, so CJE's direct mode compares the
/// baseline with the others (its off-policy mode reads only the target policies' files).
///
/// The judge score exported is the uncertainty score (the exact-distribution mean, with its
/// variance): it exists for every judged response, where the greedy score can be unparseable.
/// Rows without a judge score or without a P0 log prob are left out (counted), never filled in.
public struct ExportStage: PipelineStage {
    public let context: StageContext

    public init(context: StageContext) {
        self.context = context
    }

    public static let id = Pipeline.Stage.export

    /// Rows written and rows left out, over the logged data set and the fresh draws (a P0
    /// response counts once in each).
    public struct Counts: Sendable, Hashable {
        public var written: Int
        public var leftOut: Int
    }

    public func run(_ data: inout RunData) async throws -> [StageReport] {
        let counts = try export(
            judged: try data.require(JudgedRecords.self, from: .judge),
            logprobs: try data.require([LogprobsRecord].self, from: .logprobs),
            oracle: try data.require(OracleLabels.self, from: .oracle))
        context.say(
            "export: \(counts.written) rows in \(context.run.cjeDataset.deletingLastPathComponent().path), \(counts.leftOut) left out (no judge score or no P0 log prob)"
        )
        data[Counts.self] = counts
        return []
    }

    func export(judged: JudgedRecords, logprobs: [LogprobsRecord], oracle: OracleLabels) throws -> Counts {
        let config = context.config
        let logging = config.loggingPolicy
        let logprobs = Dictionary(uniqueKeysWithValues: logprobs.map { ($0.promptId, $0) })
        let labels = oracle.labels
        var counts = Counts(written: 0, leftOut: 0)
        var logged: [[String: Any]] = []
        var fresh: [String: [[String: Any]]] = [:]
        for record in judged.uncertainty {
            guard let response = record.response, let score = record.judgeScore else {
                counts.leftOut += record.policy == logging ? 2 : 1
                continue
            }
            var metadata: [String: Any] = ["judge_score": score, "judge_method": record.judgeMethod]
            if let variance = record.judgeScoreVariance { metadata["judge_score_variance"] = variance }
            let label = labels[ItemKey(promptId: record.promptId, policy: record.policy)]
            if let label { metadata["oracle_label"] = label }
            var row: [String: Any] = [
                "prompt_id": record.promptId, "target_policy": record.policy, "prompt": record.prompt,
                "response": response, "judge_score": score, "draw_idx": 0,
            ]
            if let variance = record.judgeScoreVariance { row["judge_score_variance"] = variance }
            if let label { row["oracle_label"] = label }
            fresh[record.policy, default: []].append(row)
            counts.written += 1
            if record.policy == logging {
                guard let lp = logprobs[record.promptId], let base = lp.logprobs[logging] ?? nil else {
                    counts.leftOut += 1
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
                counts.written += 1
            }
        }
        try AtomicFile.write(try Self.jsonl(logged), to: context.run.cjeDataset)
        for policy in config.policies {
            try AtomicFile.write(try Self.jsonl(fresh[policy.name] ?? []), to: context.run.freshDraws(policy.name))
        }
        return counts
    }

    /// Untyped rows as JSONL with sorted keys (the rows mix types CJE reads as they are).
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
