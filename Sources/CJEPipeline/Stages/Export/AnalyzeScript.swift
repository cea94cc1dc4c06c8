import Foundation

/// `cje/analyze.py`: CJE's Direct-mode analysis of exactly this bundle (the responses files, the
/// declared scales, the label design and its propensities, the transport probes), and the
/// equivalent `cje analyze` command where the CLI can say it all.
enum AnalyzeScript {
    static func text(probed: [String], summary: LabelSummary) -> String {
        let cli =
            (["cje analyze responses"]
            + probed.flatMap {
                ["--transport-probe \($0)=probes/\($0).jsonl", "--transport-margin \($0)=\(summary.probeMargin ?? 0)"]
            })
            .joined(separator: " ")
        let equivalent =
            summary.cjeLabelDesign == "representative"
            ? "The same analysis from the shell, in this folder (the CLI reads the default\n# representative label design):\n#   \(cli)"
            : "The CLI cannot declare known propensities: use this script (or analyze_dataset)."
        return """
            #!/usr/bin/env python3
            # Written by cje-prep: CJE's Direct-mode analysis of this folder's files, with the label
            # design the run declared (label_design.json: \(summary.design.rawValue), passed to CJE as
            # \(summary.cjeLabelDesign)), judge and oracle scores on [0, 1], and the held-out
            # transport probes under probes/ graded against the margin declared before the run.
            # Needs cje-eval 0.9.2 or later (pip install "cje-eval>=0.9.2").
            #   python3 analyze.py [-o results.json]
            # \(equivalent)
            import json
            import os
            import sys

            from cje import TransportAuditConfig, analyze_dataset

            here = os.path.dirname(os.path.abspath(__file__))


            def read(path):
                with open(path) as f:
                    return [json.loads(line) for line in f if line.strip()]


            with open(os.path.join(here, "label_design.json")) as f:
                design = json.load(f)
            probed = \(pythonList(probed))
            args = dict(
                fresh_draws_dir=os.path.join(here, "responses"),
                fresh_judge_scale=tuple(design["judge_scale"]),
                fresh_oracle_scale=tuple(design["oracle_scale"]),
                label_design=design["cje_label_design"],
            )
            if design["cje_label_design"] == "known_propensity":
                args["label_propensities"] = {name: p["propensities"] for name, p in design["policies"].items()}
            if probed:
                args["transport"] = TransportAuditConfig(
                    probes_by_policy={name: read(os.path.join(here, "probes", name + ".jsonl")) for name in probed},
                    delta_max_by_policy={name: design["probe_margin"] for name in probed},
                )
            results = analyze_dataset(**args)
            print(results.summary())
            if design.get("decision_margin") is not None:
                m = design["decision_margin"]
                print(
                    f"Decision margin declared before the run: {m} on the 0-1 label scale. A paired difference"
                    f" decides only when its interval lies wholly outside [-{m}, {m}]; wholly inside, the"
                    f" policies are equivalent within {m}; otherwise no decision."
                )
            if "-o" in sys.argv:
                with open(sys.argv[sys.argv.index("-o") + 1], "w") as f:
                    json.dump(results.to_dict(), f, indent=2, default=str)

            """
    }

    /// A list of strings as Python reads it (JSON's string literals are Python's).
    private static func pythonList(_ names: [String]) -> String {
        let data =
            (try? JSONSerialization.data(withJSONObject: names, options: [.withoutEscapingSlashes])) ?? Data("[]".utf8)
        return String(decoding: data, as: UTF8.self).replacingOccurrences(of: "\",\"", with: "\", \"")
    }
}
