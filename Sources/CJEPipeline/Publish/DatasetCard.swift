import CJEInference
import Foundation

/// The dataset card (`README.md`) of a published run: the YAML header the Hub reads (license,
/// task categories, size category, one config per data file), then in prose how the data was
/// made, from the run's own records: the sample, the policies, the models with their sha256 and
/// chat templates, the judge and the oracle, the determinism certificate, the label design with
/// its inclusion probabilities, the decision margin, what is missing and why, and known limits.
struct DatasetCard {
    let folder: DatasetFolder
    let configs: [DatasetFolder.Config]
    /// Each config's rows and row type, from its data as the folder wrote it. The type is declared
    /// in the header so `datasets` loads a large file whose sparse fields are null in its first block.
    let stats: [String: ConfigStats]
    /// `cje/label_design.json` (nil if it cannot be read).
    let labels: LabelSummary?

    struct ConfigStats {
        var rows: Int
        var schema: JSONSchema
    }

    init(folder: DatasetFolder, configs: [DatasetFolder.Config], stats: [String: ConfigStats]) {
        self.folder = folder
        self.configs = configs
        self.stats = stats
        labels = try? JSONDecoder().decode(LabelSummary.self, from: Data(contentsOf: folder.run.labelDesign))
    }

    /// The Hub's size category for `n` rows.
    static func sizeCategory(_ n: Int) -> String {
        switch n {
        case ..<1000: return "n<1K"
        case ..<10000: return "1K<n<10K"
        case ..<100_000: return "10K<n<100K"
        case ..<1_000_000: return "100K<n<1M"
        default: return "1M<n<10M"
        }
    }

    var config: PipelineConfig { folder.config }
    var manifest: Manifest { folder.manifest }
    var models: [String: String] { folder.manifest.fingerprint.models }

    /// The card: the header, then each section in turn.
    func text() -> String {
        let sections = [summary(), howItWasMade(), determinism(), labelDesign(), margin(), parsed(), missing()]
        return header().joined(separator: "\n") + "\n\n" + sections.joined().joined(separator: "\n") + "\n"
    }

    /// The YAML header the Hub reads: license, task, tags, size, the configs and their features.
    func header() -> [String] {
        let responses = configs.first.flatMap { stats[$0.name]?.rows } ?? 0
        var yaml = ["---", "license: \(folder.license)", "task_categories:", "- text-generation"]
        if config.prompts.englishOnly { yaml += ["language:", "- en"] }
        yaml += [
            "tags:", "- llm-as-a-judge", "- off-policy-evaluation", "- causal-judge-evaluation",
            "pretty_name: CJE data set (\(manifest.n) prompts, \(config.policies.count) policies)",
            "size_categories:", "- \(Self.sizeCategory(responses))", "configs:",
        ]
        for (k, item) in configs.enumerated() {
            yaml += ["- config_name: \(item.name)", "  data_files:", "  - split: train", "    path: \(item.path)"]
            if k == 0 { yaml.append("  default: true") }
        }
        yaml.append("dataset_info:")
        for item in configs {
            yaml +=
                ["- config_name: \(item.name)", "  features:"] + (stats[item.name]?.schema ?? .null).features(indent: 2)
        }
        yaml.append("---")
        return yaml
    }

    /// The title, what the data is, its configs and how to load them.
    func summary() -> [String] {
        var md: [String] = []
        md.append("# CJE data set: \(config.policies.map(\.name).joined(separator: ", "))")
        md.append("")
        md.append(
            "Prepared by cje-prep for Causal Judge Evaluation: responses of a logging policy (`\(config.loggingPolicy)`) and target policies to the same sampled prompts, \(config.hasOffPolicySet ? "each logged response's teacher-forced log probability under every policy, " : "")an LLM judge's scores with their uncertainty, and oracle labels on a declared probability sample. Every number was computed; none was filled in where something failed (see *What is missing*)."
        )
        md += ["", "## Configs", "", "| config | rows | what |", "|---|---|---|"]
        for item in configs { md.append("| `\(item.name)` | \(stats[item.name]?.rows ?? 0) | \(item.about) |") }
        md += [
            "",
            "```python",
            "from datasets import load_dataset",
            "responses = load_dataset(\"REPO_OR_FOLDER\", \"responses\", split=\"train\")",
            "```",
            "",
            config.hasOffPolicySet
                ? "`cje/` holds the CJE bundle as the run wrote it: `python3 cje/analyze.py` runs cje-eval (0.9.2 or later) in Direct mode with the declared label design; `cje/cje_dataset.jsonl` with `cje/responses/` is the off-policy set for cje-eval 0.3."
                : "`cje/` holds the CJE bundle as the run wrote it: `python3 cje/analyze.py` runs cje-eval (0.9.2 or later) in Direct mode with the declared label design.",
        ]
        if let directOnly = config.directOnly { md += ["", directOnly] }
        return md
    }

    /// The sample, the policies, the models, the engine, the judge and the oracle.
    func howItWasMade() -> [String] {
        var md = ["", "## How it was made", ""]
        let source = config.prompts.source
        if let prompts = labels?.prompts {
            md.append(
                "- Prompts: \(prompts.drawn) drawn from `\(source)` by a seeded ranking (seed \(config.seed)): a simple random sample of the \(prompts.eligible) eligible prompts (after the language filter, without empty ones), inclusion probability \(String(format: "%.6g", prompts.probability))\(prompts.exact ? "" : " (estimated: \(prompts.passedOverTooLong) prompts were passed over as too long)")."
            )
        } else {
            md.append("- Prompts: \(manifest.n) drawn from `\(source)` by a seeded ranking (seed \(config.seed)).")
        }
        for policy in config.policies {
            let who = policy.provider.map { "provider `\($0)`" } ?? "model `\(policy.model)`"
            md.append(
                "- Policy `\(policy.name)`\(policy.name == config.loggingPolicy ? " (logging)" : ""): \(who), temperature \(policy.temperature), up to \(policy.maxTokens) tokens, \(config.draws(of: policy)) draw(s) per prompt, system prompt: \"\(policy.systemPrompt)\"."
            )
        }
        for name in models.keys.sorted() {
            let from = manifest.models?[name].map { " from \($0.short)" } ?? ""
            let template = manifest.fingerprint.templates?[name].map { "; chat template sha256 \($0)" } ?? ""
            md.append("- Model `\(name)`: sha256 \(models[name] ?? "?")\(from)\(template).")
        }
        md.append("- Engine: \(manifest.fingerprint.engine).")
        md.append(
            "- Judge: \(config.judge.identity(providers: config.providers, models: models)), rubric \(Rubric.judge.version), deterministic score by \(config.judge.deterministic.rawValue), uncertainty from \(config.judge.uncertaintyMethod.rawValue), answers at temperature \(config.judge.answerTemperature)."
        )
        md.append(
            "- Oracle: \(config.oracle.labeller.identity(providers: config.providers, models: models)), rubric \(Rubric.oracle.version), label design `\(config.oracle.design.rawValue)` (seed \(config.oracle.seed))."
        )
        if let day = manifest.chatDate?.day {
            md.append("- The run's day (chat templates, each row's `date`): \(day).")
        }
        return md
    }

    /// The certificate of `validate`'s determinism audit.
    func determinism() -> [String] {
        var md = ["", "## Determinism", ""]
        if let determinism = folder.info.determinism {
            md.append(
                "`cje-prep validate` re-scored \(determinism.rescored) log probs alone in a fresh batch (\(determinism.rescoreMismatches) differed) and regenerated \(determinism.regenerated) draws from their own seeds (\(determinism.regenerateMismatches) differed), bit for bit, on \(determinism.engine). Every number is a function of the inputs above: re-running the same config on the same model files gives the same bytes, on one machine or split over many."
            )
        } else {
            md.append("No determinism certificate was recorded.")
        }
        return md
    }

    /// The label design, each row's inclusion probability, and what is missing per policy.
    func labelDesign() -> [String] {
        var md = ["", "## Label design", ""]
        if let labels {
            let rates =
                labels.design == .stratified
                ? "strata \((labels.strata ?? []).map { "\($0.below.map { "below \($0)" } ?? "rest"): \($0.rate)" }.joined(separator: ", "))"
                : "fraction \(labels.fraction ?? 0)"
            md.append(
                "`\(labels.design.rawValue)` (\(rates)), declared to CJE as `\(labels.cjeLabelDesign)`. The draw is made over the whole frame, before any response, score or label exists, so it does not depend on what succeeded; each row's inclusion probability is `label_inclusion_probability` in the `frame` config and `metadata.label_propensity` in `responses`."
            )
            md += [
                "",
                "| policy | rows in the frame | with a judge score | labelled | missing (generate / judge / label) |",
            ]
            md.append("|---|---|---|---|---|")
            for name in config.policies.map(\.name) {
                guard let p = labels.policies[name] else { continue }
                let missing = p.missing.map { "\($0.generate) / \($0.judge) / \($0.label)" } ?? "n/a"
                md.append("| `\(name)` | \(p.frameRows ?? p.rows) | \(p.rows) | \(p.labelledRows) | \(missing) |")
            }
        }
        return md
    }

    /// The margin the config declared before any result.
    func margin() -> [String] {
        [
            "", "## Decision margin", "",
            config.decisionMargin.map {
                "±\($0) on the 0-1 label scale, declared in the config before any result existed (it is part of the run's fingerprint: the run refuses to resume under another)."
            } ?? "None was declared (`decision_margin` in the config).",
        ]
    }

    /// How many of the judge's and the oracle's answers parsed.
    func parsed() -> [String] {
        guard let parse = folder.info.parseOk else { return [] }
        return ["", "## Answers that parsed", ""]
            + ["judge", "oracle"].compactMap { who in
                parse[who].map {
                    "- \(who): \($0.parsed) of \($0.answers) greedy answers parsed as a score 0-10 (`parse_ok` on each row)."
                }
            }
    }

    /// What is missing and why, and the data's known limits.
    func missing() -> [String] {
        var md = ["", "## What is missing", ""]
        md.append(
            "A row whose generation or judging failed is not in `responses` (cje-eval refuses a fresh draw without a judge score); it is in `frame` with `status: missing`, the stage, the error and its kind. A row drawn for a label whose label failed is in `labels` without `y_true` and marked `label: missing` in `frame`. An analysis of `responses` alone assumes those rows are missing at random."
        )
        md += ["", "## Known limits", ""]
        md.append("- The judge and the oracle are LLMs: their labels are a model's, not a person's.")
        if config.policies.contains(where: { config.logprobSource(of: $0).method == "local" }) {
            md.append(
                "- Importance weights from teacher forcing on the engine are exact for these model files, templates and settings only."
            )
        }
        for (name, noise) in (folder.info.cloneNoise ?? [:]).sorted(by: { $0.key < $1.key }) {
            md.append(
                "- Log probs teacher-forced over HTTP are the endpoint's measurement, not a bit-exact value: `\(name)`, a clone of `\(config.loggingPolicy)` on the same endpoint, measured \(noise.summary). That is this data set's noise figure for weights from that endpoint."
            )
        }
        if config.policies.contains(where: { $0.provider != nil }) {
            md.append(
                "- Responses from providers carry the model id and `system_fingerprint` the endpoint answered with (`data/all_responses.jsonl`); a provider's sampling is reproducible only as far as it honours `seed`."
            )
        }
        if manifest.n < 200 {
            md.append(
                "- \(manifest.n) prompts: too few for tight intervals (CJE asks for 20 or more labelled prompts per policy)."
            )
        }
        md += ["", "`provenance/manifest.json` and `provenance/dataset_info.json` are the run's own records."]
        return md
    }
}
