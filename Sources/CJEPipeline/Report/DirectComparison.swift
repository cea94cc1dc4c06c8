import CJEInference
import Foundation

/// What CJE's Direct mode compares, per policy, read from the bundle the export wrote
/// (`cje/responses/`, `cje/label_design.json`): its rows and the frame's missing ones, its mean
/// judge score, and a calibrated estimate (the judge score mapped onto the oracle's scale by an
/// isotonic fit to every labelled row, averaged over the policy's rows) with a seeded
/// prompt-cluster bootstrap interval, where there are labels enough. A preview of what
/// `python3 cje/analyze.py` estimates, not CJE's estimator.
public struct DirectComparison: Sendable {
    public struct Row: Sendable {
        public var policy: String
        /// Rows CJE reads, and rows of the frame (every draw of every sampled prompt).
        public var rows: Int
        public var frameRows: Int?
        /// Frame rows without a response, without a judge score.
        public var missingResponse: Int
        public var missingJudge: Int
        public var judgeMean: Double?
        public var calibrated: Double?
        public var low: Double?
        public var high: Double?
        public var labelledRows: Int
        public var labelledPrompts: Int
        /// The mean oracle label of its labelled rows.
        public var labelMean: Double?
    }

    public var rows: [Row]
    /// Labelled rows over every policy that the calibration was fitted to.
    public var labelled: Int
    /// Why there is no calibrated estimate, or nil.
    public var uncalibrated: String?

    /// Labelled rows the calibration needs at least.
    public static let minimumLabels = 10
    static let resamples = 500

    /// One row as the export wrote it, the fields read here.
    struct Fresh: Decodable {
        var prompt_id: String
        var judge_score: Double
        var oracle_label: Double?
    }

    /// Reads the bundle of a run exported through `policies`; nil before the export wrote it.
    static func load(_ run: RunDirectory, policies: [String], seed: UInt64) -> DirectComparison? {
        guard let data = try? Data(contentsOf: run.labelDesign),
            let summary = try? JSONDecoder().decode(LabelSummary.self, from: data)
        else { return nil }
        var fresh: [String: [Fresh]] = [:]
        for policy in policies {
            fresh[policy] = (try? JSONLines.decode(Fresh.self, from: run.freshDraws(policy))) ?? []
        }
        let labels = fresh.values.joined().compactMap { row in row.oracle_label.map { (row.judge_score, $0) } }
        let calibration = labels.count >= minimumLabels ? IsotonicFit(labels) : nil
        var rng = SplitMix64(seed: seed ^ 0xD1EC_7000)
        let rows = policies.map { policy -> Row in
            let own = fresh[policy] ?? []
            let about = summary.policies[policy]
            var row = Row(
                policy: policy, rows: own.count, frameRows: about?.frameRows,
                missingResponse: about?.missing?.generate ?? 0, missingJudge: about?.missing?.judge ?? 0,
                judgeMean: own.map(\.judge_score).mean, calibrated: nil, low: nil, high: nil,
                labelledRows: about?.labelledRows ?? own.filter { $0.oracle_label != nil }.count,
                labelledPrompts: about?.labelledPrompts ?? 0, labelMean: own.compactMap(\.oracle_label).mean)
            if let calibration, !own.isEmpty {
                row.calibrated = own.map { calibration.predict($0.judge_score) }.mean
                (row.low, row.high) = interval(own, labelled: fresh, &rng)
            }
            return row
        }
        return DirectComparison(
            rows: rows, labelled: labels.count,
            uncalibrated: calibration == nil
                ? "\(labels.count) labelled rows, fewer than the \(minimumLabels) a calibration needs" : nil)
    }

    /// The 2.5% and 97.5% quantiles of the calibrated mean over resamples of prompts (clusters),
    /// the calibration refitted to the labelled rows of the resampled prompts each time.
    static func interval(_ own: [Fresh], labelled: [String: [Fresh]], _ rng: inout SplitMix64) -> (Double?, Double?) {
        let prompts = Array(Set(own.map(\.prompt_id))).sorted()
        guard prompts.count > 1 else { return (nil, nil) }
        let ownBy = Dictionary(grouping: own, by: \.prompt_id)
        let labelsBy = Dictionary(
            grouping: labelled.values.joined().filter { $0.oracle_label != nil }, by: \.prompt_id)
        var estimates: [Double] = []
        for _ in 0..<resamples {
            var rows: [Double] = []
            var labels: [(Double, Double)] = []
            for _ in prompts.indices {
                let prompt = prompts[Int(rng.next() % UInt64(prompts.count))]
                rows += (ownBy[prompt] ?? []).map(\.judge_score)
                labels += (labelsBy[prompt] ?? []).compactMap { row in row.oracle_label.map { (row.judge_score, $0) } }
            }
            guard labels.count >= minimumLabels, let mean = rows.map(IsotonicFit(labels).predict).mean else {
                continue
            }
            estimates.append(mean)
        }
        guard estimates.count >= resamples / 2 else { return (nil, nil) }
        estimates.sort()
        func quantile(_ q: Double) -> Double { estimates[Int((Double(estimates.count - 1) * q).rounded())] }
        return (quantile(0.025), quantile(0.975))
    }
}

/// A non-decreasing map from judge score to oracle label: pool-adjacent-violators over the
/// labelled pairs (ties pooled), predicted by linear interpolation between the fitted points
/// and held flat beyond them, as scikit-learn's `IsotonicRegression(out_of_bounds="clip")`.
package struct IsotonicFit {
    private(set) var x: [Double] = []
    private(set) var y: [Double] = []

    package init(_ pairs: [(score: Double, label: Double)]) {
        var blocks: [(x: Double, sum: Double, weight: Double)] = []
        for pair in pairs.sorted(by: { $0.score < $1.score }) {
            if let last = blocks.last, last.x == pair.score {
                blocks[blocks.count - 1].sum += pair.label
                blocks[blocks.count - 1].weight += 1
            } else {
                blocks.append((pair.score, pair.label, 1))
            }
        }
        // Pooled runs: first x, last x, the run's label sum and weight.
        var runs: [(first: Double, last: Double, sum: Double, weight: Double, points: [Double])] = []
        for block in blocks {
            runs.append((block.x, block.x, block.sum, block.weight, [block.x]))
            while runs.count > 1,
                runs[runs.count - 2].sum / runs[runs.count - 2].weight > runs[runs.count - 1].sum
                    / runs[runs.count - 1].weight
            {
                let top = runs.removeLast()
                runs[runs.count - 1].last = top.last
                runs[runs.count - 1].sum += top.sum
                runs[runs.count - 1].weight += top.weight
                runs[runs.count - 1].points += top.points
            }
        }
        for run in runs {
            for point in run.points {
                x.append(point)
                y.append(run.sum / run.weight)
            }
        }
    }

    package func predict(_ score: Double) -> Double {
        guard let first = x.first, let last = x.last else { return .nan }
        if score <= first { return y[0] }
        if score >= last { return y[y.count - 1] }
        // The first fitted point at or above the score (binary search; x is sorted).
        var (lo, hi) = (0, x.count - 1)
        while lo < hi {
            let mid = (lo + hi) / 2
            if x[mid] < score { lo = mid + 1 } else { hi = mid }
        }
        if x[hi] == score { return y[hi] }
        lo = hi - 1
        let t = (score - x[lo]) / (x[hi] - x[lo])
        return y[lo] + t * (y[hi] - y[lo])
    }
}
