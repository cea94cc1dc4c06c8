public import Foundation

/// A run's report as one self-contained HTML page: inline CSS and SVG, one small inline script
/// (it checks that every section drew its chart), and a content security policy that lets
/// nothing be fetched, so the page is the same offline, on a phone and on paper.
public enum ReportPage {
    /// Writes `<run>/report/index.html` from the run's files; returns its path.
    @discardableResult
    public static func write(_ run: RunDirectory) throws -> URL {
        let report = try RunReport.load(run)
        let url = run.root.appendingPathComponent("report/index.html")
        try AtomicFile.write(Data(html(report, title: run.root.lastPathComponent).utf8), to: url)
        return url
    }

    public static func html(_ r: RunReport, title: String) -> String {
        var body = ""
        body += direct(r)
        body += glance(r)
        // Importance weights exist only where P0 and a target have log probs.
        if !r.weights.isEmpty { body += weights(r) }
        body += judge(r)
        body += oracle(r)
        if !r.weights.isEmpty { body += estimates(r) }
        body += stages(r)
        return """
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
            <title>cje-prep report: \(escape(title))</title>
            <style>\(css)</style>
            </head>
            <body>
            <header><h1>cje-prep report</h1><p class="sub">\(escape(title)) &middot; \(r.glance.n) prompts &middot; seed \(r.glance.seed)</p></header>
            <main>
            \(body)
            </main>
            <script>\(script)</script>
            </body>
            </html>

            """
    }

    // MARK: Sections

    /// What Direct mode compares, first: per policy its mean judge score, the calibrated
    /// estimate with its interval where labels allow, labelled prompts and missing rows.
    static func direct(_ r: RunReport) -> String {
        func f(_ v: Double?) -> String { v.map { String(format: "%.3f", $0) } ?? "n/a" }
        guard let d = r.direct else {
            return section(
                "direct", "Direct mode: the policies compared",
                caption: "The CJE bundle (cje/) is not written yet: run the export.",
                svg("direct", "no data", ""))
        }
        let rows = d.rows.map { row in
            [
                escape(row.policy), "\(row.rows)", row.frameRows.map { "\($0)" } ?? "n/a",
                "\(row.missingResponse) / \(row.missingJudge)", f(row.judgeMean), f(row.calibrated),
                row.low.map { "\(f($0)) – \(f(row.high))" } ?? "n/a", f(row.labelMean), "\(row.labelledRows)",
                "\(row.labelledPrompts)",
            ]
        }
        let marks = d.rows.map {
            IntervalRow(
                label: $0.policy, point: $0.calibrated, low: $0.low, high: $0.high, diamond: $0.judgeMean,
                square: $0.labelMean)
        }
        var caption =
            "Per policy, over its rows in cje/responses/: the mean judge score (◆), the calibrated estimate (the judge score mapped onto the oracle's scale by an isotonic fit to every labelled row, ●) with a seeded prompt-bootstrap 95% interval (bar), and the mean oracle label of its labelled rows (■). A preview: `python3 cje/analyze.py` gives CJE's own estimate."
        if let why = d.uncalibrated { caption += " No calibrated estimate: \(why)." }
        var inner = intervals(marks, chart: "direct")
        inner += table(
            header: [
                "policy", "rows", "frame rows", "missing: response / judge", "judge mean", "calibrated",
                "95% interval", "label mean", "labelled rows", "labelled prompts",
            ], rows: rows, numeric: [1, 2, 4, 5, 6, 7, 8, 9], escaped: true)
        if let directOnly = r.directOnly { inner += "<p class=\"stat\">\(escape(directOnly))</p>" }
        return section("direct", "Direct mode: the policies compared", caption: caption, inner)
    }

    static func glance(_ r: RunReport) -> String {
        let g = r.glance
        let validation =
            g.validationPassed.map { $0 ? "passed" : "FAILED (\(g.validationFailures.count) hard failures)" }
            ?? "not run"
        var audit =
            g.auditPairs.map { pairs in "\(pairs - (g.auditMismatches ?? 0)) of \(pairs) re-scored bit-identical" }
            ?? "n/a"
        if let regenerated = g.regenerated {
            audit +=
                "; \(regenerated - (g.regenerateMismatches ?? 0)) of \(regenerated) draws regenerated bit-identical"
        }
        var rows: [[String]] = [
            ["Prompts", "\(g.n)"], ["Seed", "\(g.seed)"], ["Engine", g.engine], ["Validation", validation],
            ["Determinism audit", audit],
        ]
        rows.append(["Mode", r.directOnly ?? "Direct mode and off-policy (every policy has log probs)"])
        for (name, noise) in r.cloneNoise.sorted(by: { $0.key < $1.key }) {
            rows.append(["Clone noise (\(name))", noise.summary])
        }
        if let labels = g.labels { rows.append(["Oracle labels", labels]) }
        rows.append([
            "Decision margin",
            g.decisionMargin.map { "±\($0) on the 0-1 label scale, declared in the config before the run" }
                ?? "none declared (decision_margin)",
        ])
        rows += g.policies.map { ["Policy \($0.name)", $0.detail] }
        rows += g.models.map { ["Model \($0.name)", ($0.source.map { $0 + ", " } ?? "") + "sha256 \($0.sha)…"] }
        let failures = table(
            header: ["stage", "failed", "items"], rows: g.failures.map { [$0.stage, "\($0.failed)", "\($0.total)"] },
            numeric: [1, 2])
        return section(
            "glance", "The run at a glance",
            caption: "What was run, with what, and whether it validated; failed items stay null in the outputs.",
            table(header: ["", ""], rows: rows) + "<h3>Failures per stage</h3>" + failures)
    }

    static func weights(_ r: RunReport) -> String {
        var inner = ""
        for w in r.weights {
            let ess = w.effectiveSampleSize.map { String(format: "%.1f", $0) } ?? "n/a"
            let share = w.largestShare.map { String(format: "%.1f%%", $0 * 100) } ?? "n/a"
            inner += "<h3>\(escape(w.policy))</h3>"
            inner += "<p class=\"stat\">ESS \(ess) of \(w.logWeights.count) &middot; largest weight share \(share)</p>"
            inner += histogram(
                w.logWeights, bins: 20, xLabel: "log importance weight (log π − log π₀)", chart: "weights-\(w.policy)")
            inner += table(
                header: ["prompt", "log weight", "share of weight"],
                rows: w.heaviest.map {
                    [
                        escape($0.excerpt), String(format: "%.3f", $0.logWeight),
                        String(format: "%.1f%%", $0.share * 100),
                    ]
                }, numeric: [1, 2], escaped: true)
        }
        return section(
            "weights", "Importance weights per target policy",
            caption:
                "Each bar counts P0 responses by log weight; a long right tail means a few prompts carry the estimate (low ESS, large top share). The table lists the five heaviest.",
            inner)
    }

    static func judge(_ r: RunReport) -> String {
        var inner = ""
        for s in r.scores {
            let mass = s.massMean.map { String(format: "mean %.3f, min %.3f", $0, s.massMin ?? $0) } ?? "n/a"
            inner += "<h3>\(escape(s.policy))</h3><p class=\"stat\">probability mass on the 0-10 answers: \(mass)</p>"
            inner += "<div class=\"pair\">"
            // One bin per answer 0-10 (scores k/10 sit mid-bin), ticks at round scores.
            let ticks = [0, 0.25, 0.5, 0.75, 1.0]
            inner += histogram(
                s.deterministic, bins: 11, range: (-0.05, 1.05), xLabel: "deterministic judge score",
                chart: "judge-det-\(s.policy)", xTicks: ticks)
            inner += histogram(
                s.uncertaintyMeans, bins: 11, range: (-0.05, 1.05), xLabel: "judge score mean (uncertainty)",
                chart: "judge-unc-\(s.policy)", xTicks: ticks)
            inner += "</div>"
        }
        return section(
            "judge", "Judge scores per policy",
            caption:
                "How the judge scored each policy's own responses: the deterministic score and the mean of its score distribution. Mass near 1 means the judge answered on the 0-10 scale.",
            inner)
    }

    static func oracle(_ r: RunReport) -> String {
        let rho = r.rankCorrelation.map { String(format: "%.3f", $0) } ?? "n/a"
        var inner = "<p class=\"stat\">Spearman rank correlation \(rho) over \(r.labelledPairs) labelled responses</p>"
        inner += reliability(r.reliability)
        inner += table(
            header: ["judge score bin", "responses", "judge mean", "oracle mean"],
            rows: r.reliability.map {
                [
                    String(format: "%.1f-%.1f", $0.low, $0.high), "\($0.count)", String(format: "%.3f", $0.judgeMean),
                    String(format: "%.3f", $0.oracleMean),
                ]
            }, numeric: [1, 2, 3])
        return section(
            "oracle", "Judge against oracle",
            caption:
                "Labelled responses binned by judge score: each point is a bin's mean judge score against its mean oracle label (size = count). On the diagonal, the judge is calibrated.",
            inner)
    }

    static func estimates(_ r: RunReport) -> String {
        func f(_ v: Double?) -> String { v.map { String(format: "%.3f", $0) } ?? "n/a" }
        let rows = r.scores.map { s in
            [
                escape(s.policy), f(s.snips), "\(f(s.snipsLow)) – \(f(s.snipsHigh))", f(s.ownJudgeMean),
                f(s.oracleMean),
                "\(s.oracleLabels)",
            ]
        }
        return section(
            "estimates", "Estimates per policy",
            caption:
                "The self-normalised judge estimate from P0's responses with a seeded bootstrap 95% interval (bar), beside the policy's own judge mean (◆) and the oracle mean of its labelled slice (■).",
            intervals(
                r.scores.map {
                    IntervalRow(
                        label: $0.policy, point: $0.snips, low: $0.snipsLow, high: $0.snipsHigh,
                        diamond: $0.ownJudgeMean, square: $0.oracleMean)
                }, chart: "estimates")
                + table(
                    header: ["policy", "SNIPS judge", "95% interval", "own judge mean", "oracle mean", "labels"],
                    rows: rows, numeric: [1, 2, 3, 4, 5], escaped: true))
    }

    static func stages(_ r: RunReport) -> String {
        func f(_ v: Double?, _ format: String) -> String { v.map { String(format: format, $0) } ?? "" }
        let rows = r.stages.map { s in
            [
                s.stage, String(format: "%.1f", s.seconds), "\(s.items)", "\(s.failed)", f(s.itemsPerSecond, "%.2f"),
                f(s.tokensPerSecond, "%.1f"), "\(s.calls)", "\(s.retries)", String(format: "%.4f", s.spend),
            ]
        }
        let gap =
            r.sampledScoredGap.map { String(format: "%.3g nats over %d responses", $0, r.gapCount) } ?? "n/a"
        return section(
            "stages", "Where the time and money went",
            caption:
                "Seconds of work per stage over every invocation (bars), with rates, provider calls, retries and spend. The sampled-vs-scored gap of P0 is 0 when generation and teacher forcing agree exactly.",
            bars(r.stages.map { ($0.stage, $0.seconds) }, unit: "s", chart: "stages")
                + table(
                    header: [
                        "stage", "seconds", "items", "failed", "items/s", "tokens/s", "calls", "retries", "spend",
                    ],
                    rows: rows, numeric: [1, 2, 3, 4, 5, 6, 7, 8])
                + "<p class=\"stat\">P0 sampled − teacher-forced log prob, largest |gap|: \(gap)</p>")
    }

    // MARK: Pieces

    static func section(_ id: String, _ title: String, caption: String, _ inner: String) -> String {
        "<section id=\"\(id)\" data-section=\"\(id)\"><h2>\(escape(title))</h2><p class=\"caption\">\(escape(caption))</p>\(inner)</section>\n"
    }

    static func table(header: [String], rows: [[String]], numeric: Set<Int> = [], escaped: Bool = false) -> String {
        func cell(_ text: String, _ k: Int, _ tag: String) -> String {
            "<\(tag)\(numeric.contains(k) ? " class=\"num\"" : "")>\(escaped ? text : escape(text))</\(tag)>"
        }
        let head = header.enumerated().map { cell($1, $0, "th") }.joined()
        let body = rows.map { "<tr>" + $0.enumerated().map { cell($1, $0, "td") }.joined() + "</tr>" }.joined()
        return "<div class=\"table\"><table><thead><tr>\(head)</tr></thead><tbody>\(body)</tbody></table></div>"
    }

    static let (width, height) = (560.0, 220.0)
    static let (left, right, top, bottom) = (44.0, 12.0, 10.0, 36.0)

    static func svg(_ chart: String, _ label: String, _ inner: String) -> String {
        "<svg class=\"chart\" data-chart=\"\(escape(chart))\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" role=\"img\" aria-label=\"\(escape(label))\">\(inner)</svg>"
    }

    /// Axes with 5 ticks on each, evenly spaced, or at `xTicks` along x.
    static func axes(
        x: (Double, Double), y: (Double, Double), xLabel: String, yLabel: String, xTicks: [Double]? = nil
    ) -> String {
        let (w, h) = (width - left - right, height - top - bottom)
        var out = "<line class=\"axis\" x1=\"\(left)\" y1=\(q(top + h)) x2=\(q(left + w)) y2=\(q(top + h))/>"
        out += "<line class=\"axis\" x1=\"\(left)\" y1=\"\(top)\" x2=\"\(left)\" y2=\(q(top + h))/>"
        for vx in xTicks ?? (0...4).map({ x.0 + (x.1 - x.0) * Double($0) / 4 }) {
            out +=
                "<text class=\"tick\" x=\(q(left + w * (vx - x.0) / (x.1 - x.0))) y=\(q(top + h + 14)) text-anchor=\"middle\">\(format(vx))</text>"
        }
        for k in 0...4 {
            let fx = Double(k) / 4
            let vy = y.0 + (y.1 - y.0) * fx
            out +=
                "<text class=\"tick\" x=\(q(left - 4)) y=\(q(top + h - h * fx + 4)) text-anchor=\"end\">\(format(vy))</text>"
        }
        out +=
            "<text class=\"label\" x=\(q(left + w / 2)) y=\(q(height - 4)) text-anchor=\"middle\">\(escape(xLabel))</text>"
        out +=
            "<text class=\"label\" x=\"10\" y=\(q(top + h / 2)) transform=\"rotate(-90 10 \(top + h / 2))\" text-anchor=\"middle\">\(escape(yLabel))</text>"
        return out
    }

    static func histogram(
        _ values: [Double], bins: Int, range: (Double, Double)? = nil, xLabel: String, chart: String,
        xTicks: [Double]? = nil
    ) -> String {
        let finite = values.filter(\.isFinite)
        var (low, high) = range ?? (finite.min() ?? 0, finite.max() ?? 1)
        if high <= low { (low, high) = (low - 0.5, high + 0.5) }
        var counts = [Int](repeating: 0, count: bins)
        for v in finite {
            counts[min(bins - 1, max(0, Int((v - low) / (high - low) * Double(bins))))] += 1
        }
        // The count axis has 4 steps: its top is the next multiple of 4, so every tick is whole.
        let most = Double(((max(1, counts.max() ?? 1) + 3) / 4) * 4)
        let (w, h) = (width - left - right, height - top - bottom)
        var inner = axes(x: (low, high), y: (0, most), xLabel: xLabel, yLabel: "responses", xTicks: xTicks)
        for (k, count) in counts.enumerated() where count > 0 {
            let barHeight = h * Double(count) / most
            inner +=
                "<rect class=\"bar\" x=\(q(left + w * Double(k) / Double(bins) + 1)) y=\(q(top + h - barHeight)) width=\(q(max(1, w / Double(bins) - 2))) height=\(q(barHeight))><title>\(count)</title></rect>"
        }
        return svg(chart, "histogram of \(xLabel), \(finite.count) values", inner)
    }

    static func bars(_ items: [(String, Double)], unit: String, chart: String) -> String {
        let most = max(items.map(\.1).max() ?? 1, 1e-9)
        let rowHeight = 22.0
        let chartHeight = rowHeight * Double(max(1, items.count)) + 8
        var inner = ""
        for (k, item) in items.enumerated() {
            let y = 4 + rowHeight * Double(k)
            let length = (width - 200) * item.1 / most
            inner += "<text class=\"tick\" x=\"136\" y=\(q(y + 14)) text-anchor=\"end\">\(escape(item.0))</text>"
            inner += "<rect class=\"bar\" x=\"140\" y=\(q(y + 3)) width=\(q(max(1, length))) height=\"14\"/>"
            inner += "<text class=\"tick\" x=\(q(144 + length)) y=\(q(y + 14))>\(format(item.1)) \(unit)</text>"
        }
        return
            "<svg class=\"chart\" data-chart=\"\(chart)\" viewBox=\"0 0 \(Int(width)) \(Int(chartHeight))\" role=\"img\" aria-label=\"seconds per stage\">\(inner)</svg>"
    }

    static func reliability(_ bins: [RunReport.ReliabilityBin]) -> String {
        let (w, h) = (width - left - right, height - top - bottom)
        func x(_ v: Double) -> Double { left + w * v }
        func y(_ v: Double) -> Double { top + h - h * v }
        var inner = axes(x: (0, 1), y: (0, 1), xLabel: "judge score (bin mean)", yLabel: "oracle mean")
        inner += "<line class=\"diagonal\" x1=\(q(x(0))) y1=\(q(y(0))) x2=\(q(x(1))) y2=\(q(y(1)))/>"
        let most = Double(bins.map(\.count).max() ?? 1)
        for bin in bins {
            let radius = 3 + 7 * (Double(bin.count) / most).squareRoot()
            inner +=
                "<circle class=\"point\" cx=\(q(x(bin.judgeMean))) cy=\(q(y(bin.oracleMean))) r=\(q(radius))><title>\(bin.count) responses</title></circle>"
            inner +=
                "<text class=\"tick\" x=\(q(x(bin.judgeMean) + radius + 2)) y=\(q(y(bin.oracleMean) + 4))>\(bin.count)</text>"
        }
        return svg("reliability", "judge score against oracle label", inner)
    }

    /// One row of an interval chart: a point with its interval, and two marks beside it.
    struct IntervalRow {
        var label: String
        var point: Double?
        var low: Double?
        var high: Double?
        /// ◆ above the row, ■ below it.
        var diamond: Double?
        var square: Double?
    }

    static func intervals(_ rows: [IntervalRow], chart: String) -> String {
        let rowHeight = 30.0
        let chartHeight = rowHeight * Double(max(1, rows.count)) + 30
        let (x0, x1) = (140.0, width - 20)
        func x(_ v: Double) -> Double { x0 + (x1 - x0) * min(1, max(0, v)) }
        var inner = ""
        for k in 0...4 {
            let v = Double(k) / 4
            inner += "<line class=\"grid\" x1=\(q(x(v))) y1=\"4\" x2=\(q(x(v))) y2=\(q(chartHeight - 22))/>"
            inner +=
                "<text class=\"tick\" x=\(q(x(v))) y=\(q(chartHeight - 8)) text-anchor=\"middle\">\(format(v))</text>"
        }
        for (k, s) in rows.enumerated() {
            let y = 4 + rowHeight * Double(k) + 12
            inner += "<text class=\"tick\" x=\"132\" y=\(q(y + 4)) text-anchor=\"end\">\(escape(s.label))</text>"
            if let low = s.low, let high = s.high {
                inner += "<line class=\"interval\" x1=\(q(x(low))) y1=\(q(y)) x2=\(q(x(high))) y2=\(q(y))/>"
            }
            if let v = s.point { inner += "<circle class=\"point\" cx=\(q(x(v))) cy=\(q(y)) r=\"4\"/>" }
            if let v = s.diamond {
                inner += "<text class=\"own\" x=\(q(x(v))) y=\(q(y - 6)) text-anchor=\"middle\">◆</text>"
            }
            if let v = s.square {
                inner += "<text class=\"oracle\" x=\(q(x(v))) y=\(q(y + 16)) text-anchor=\"middle\">■</text>"
            }
        }
        return
            "<svg class=\"chart\" data-chart=\"\(chart)\" viewBox=\"0 0 \(Int(width)) \(Int(chartHeight))\" role=\"img\" aria-label=\"estimates with intervals\">\(inner)</svg>"
    }

    static func q(_ v: Double) -> String { "\"\(String(format: "%.1f", v))\"" }

    static func format(_ v: Double) -> String {
        abs(v) >= 100 || v == v.rounded() ? String(format: "%.0f", v) : String(format: "%.2f", v)
    }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }

    static let css = """
        :root{--fg:#1d2330;--muted:#5b6475;--accent:#2f6fdf;--bar:#6f95d9;--line:#c9cfda}
        *{box-sizing:border-box}body{margin:0;font:15px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:var(--fg);background:#fafbfc}
        header{padding:16px 20px;background:#fff;border-bottom:1px solid var(--line)}h1{margin:0;font-size:22px}
        .sub{margin:4px 0 0;color:var(--muted)}main{max-width:1100px;margin:0 auto;padding:8px 16px 40px}
        section{background:#fff;border:1px solid var(--line);border-radius:8px;padding:14px 16px;margin:16px 0;break-inside:avoid}
        h2{margin:0 0 4px;font-size:18px}h3{margin:14px 0 4px;font-size:15px}.caption{margin:0 0 8px;color:var(--muted)}
        .stat{margin:4px 0;font-variant-numeric:tabular-nums}.chart{width:100%;max-width:720px;height:auto;display:block;margin:6px 0}
        .pair{display:grid;grid-template-columns:repeat(auto-fit,minmax(280px,1fr));gap:8px}
        .table{overflow-x:auto}table{border-collapse:collapse;margin:6px 0;font-variant-numeric:tabular-nums}
        th,td{padding:3px 10px;border-bottom:1px solid #eef0f4;text-align:left;vertical-align:top}td.num,th.num{text-align:right}
        .axis{stroke:#8a93a3}.grid{stroke:#eef0f4}.tick{font-size:11px;fill:var(--muted)}.label{font-size:12px;fill:var(--fg)}
        .bar{fill:var(--bar)}.point{fill:var(--accent)}.diagonal{stroke:#b8bfcc;stroke-dasharray:4 3}
        .interval{stroke:var(--accent);stroke-width:3}.own{fill:#c2410c;font-size:12px}.oracle{fill:#15803d;font-size:11px}
        @media print{body{background:#fff}section{border:none;padding:0}header{border:none}}
        """

    /// Marks the page as checked once every section has its heading, caption and (but the first)
    /// at least one chart: what the browser test reads back from the DOM.
    static let script = """
        (function(){var bad=[];document.querySelectorAll('section[data-section]').forEach(function(s){
        if(!s.querySelector('h2')||!s.querySelector('.caption'))bad.push(s.id);
        if(s.id!=='glance'&&!s.querySelector('svg.chart'))bad.push(s.id+':chart');});
        document.documentElement.setAttribute('data-report-check',bad.length?('missing '+bad.join(',')):'ok');})();
        """
}
