import CJEInference
public import Foundation

/// A finished run as a Hugging Face data set folder: `README.md` (the dataset card: the YAML
/// header the Hub reads, then how the data was made) and one JSON Lines file per config under
/// `data/`, each the concatenation of the run's own files, byte for byte; the CJE bundle under
/// `cje/` as the run wrote it (so its `analyze.py` runs on the published copy); the run's
/// manifest and `dataset_info.json` under `provenance/`.
///
/// JSON Lines only: no Parquet writer is among the Swift packages this builds with, and the Hub
/// converts every JSON Lines config to Parquet itself (its `refs/convert/parquet` branch).
public struct DatasetFolder: Sendable {
    /// One config of the card: its name, its file under `data/`, and the run's files it is made of.
    public struct Config: Sendable, Hashable {
        public var name: String
        public var path: String
        public var sources: [URL]
        public var about: String
    }

    public let run: RunDirectory
    public let manifest: Manifest
    public let config: PipelineConfig
    /// `dataset_info.json` as validate wrote it (read once, here).
    let info: DatasetInfoSummary
    /// What the card says the data is licensed under (a Hub license id; `other` by default).
    public var license: String

    /// Refuses a run that has not validated (or failed validation): nothing is read further.
    public init(run: RunDirectory, license: String = "other") throws {
        guard FileManager.default.fileExists(atPath: run.datasetInfo.path) else {
            throw PipelineError.impossible(
                "\(run.root.path) holds no validated run (no data/dataset_info.json): run `cje-prep run` (or `merge`) to the end first; nothing was published"
            )
        }
        let info = try JSONDecoder().decode(DatasetInfoSummary.self, from: Data(contentsOf: run.datasetInfo))
        guard info.passed else {
            throw PipelineError.impossible(
                "\(run.root.path) did not pass validation (\(info.failures.count) hard failures in data/dataset_info.json); nothing was published"
            )
        }
        self.run = run
        self.info = info
        manifest = try Manifest.read(from: run.manifest)
        var config = try PipelineConfig.stored(manifest.fingerprint.config)
        config.n = manifest.n
        self.config = config
        self.license = license
    }

    /// The configs, in the card's order: the responses first (the default).
    public var configs: [Config] {
        let policies = config.policies.map(\.name)
        let logging = config.loggingPolicy
        let groups: [RunDirectory.ScoredGroup] = config.hasLaterDraws ? [.p0, .targets, .draws] : [.p0, .targets]
        var out = [
            Config(
                name: "responses", path: "data/responses.jsonl", sources: policies.map(run.freshDraws),
                about:
                    "every policy's responses with a judge score, one row per draw (cje/responses/, cje-eval's Direct mode)"
            ),
            Config(
                name: "frame", path: "data/frame.jsonl", sources: policies.map(run.frame),
                about: "every sampled row, complete or missing, with why and its inclusion probabilities (cje/frame/)"),
            Config(
                name: "scores", path: "data/scores.jsonl",
                sources: groups.map { run.scored($0, .uncertainty) },
                about: "the judge's score distribution (mean and variance) of every response, every draw"),
            Config(
                name: "scores_deterministic", path: "data/scores_deterministic.jsonl",
                sources: groups.map { run.scored($0, .deterministic) },
                about: "the judge's deterministic score of every response (\(config.judge.deterministic.rawValue))"),
            Config(
                name: "logprobs", path: "data/logprobs.jsonl", sources: [run.logprobs],
                about: "the teacher-forced log probability of each \(logging) response under every policy"),
            Config(
                name: "labels", path: "data/labels.jsonl",
                sources: [run.oracleLabels(.calibration), run.oracleLabels(.validation)],
                about:
                    "the oracle's labels on the rows the label design drew (calibration: \(logging); validation: the targets)"
            ),
        ]
        // The off-policy set exists only when every policy has log probs (else Direct mode only).
        if config.hasOffPolicySet {
            out.insert(
                Config(
                    name: "logged", path: "data/logged.jsonl", sources: [run.cjeDataset],
                    about: "the off-policy set: \(logging)'s responses with their log probs (cje/cje_dataset.jsonl)"),
                at: 5)
        }
        if config.oracle.probes > 0 {
            out.append(
                Config(
                    name: "probes", path: "data/probes.jsonl", sources: [run.oracleLabels(.probes)],
                    about: "the held-out transport probes' labels (never calibrating)"))
        }
        out.append(
            Config(
                name: "prompts", path: "data/prompts.jsonl", sources: [run.prompts],
                about: "the sampled prompts"))
        return out
    }

    /// Writes the folder at `folder`: made beside it and moved into place, so a failure leaves
    /// nothing half written. A folder that exists must be empty or an earlier publication
    /// (`.cje-prep-publish` in it), which is replaced.
    @discardableResult
    public func write(to folder: URL) throws -> [String] {
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        if fm.fileExists(atPath: folder.path, isDirectory: &isDirectory) {
            let entries = (try? fm.contentsOfDirectory(atPath: folder.path)) ?? []
            guard isDirectory.boolValue, entries.isEmpty || entries.contains(Self.marker) else {
                throw PipelineError.impossible(
                    "\(folder.path) exists and is not an empty folder or an earlier `cje-prep publish`; choose a new folder (nothing was written)"
                )
            }
        }
        let parent = folder.deletingLastPathComponent()
        let staging = parent.appendingPathComponent(".\(folder.lastPathComponent).part-\(getpid())")
        try? fm.removeItem(at: staging)
        do {
            let files = try fill(staging)
            if fm.fileExists(atPath: folder.path) { try fm.removeItem(at: folder) }
            try fm.moveItem(at: staging, to: folder)
            return files
        } catch {
            try? fm.removeItem(at: staging)
            throw error
        }
    }

    /// Marks a folder `write` made (and may replace).
    public static let marker = ".cje-prep-publish"

    /// Every file of the folder, relative paths, in the order written.
    private func fill(_ root: URL) throws -> [String] {
        var written: [String] = []
        func put(_ data: Data, _ path: String) throws {
            let url = root.appendingPathComponent(path)
            try FileManager.default.createDirectory(
                at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try data.write(to: url)
            written.append(path)
        }
        var stats: [String: DatasetCard.ConfigStats] = [:]
        let configs = self.configs
        for config in configs {
            var data = Data()
            for source in config.sources {
                do {
                    data.append(try Data(contentsOf: source))
                } catch {
                    throw PipelineError.unreadable(path: source.path, detail: FileFailure.describe(error))
                }
            }
            stats[config.name] = DatasetCard.ConfigStats(
                rows: data.reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) }, schema: try JSONSchema.of(lines: data))
            try put(data, config.path)
        }
        let cje = run.cjeDataset.deletingLastPathComponent()
        for case let url as URL in FileManager.default.enumerator(at: cje, includingPropertiesForKeys: nil) ?? .init()
        where !url.hasDirectoryPath {
            try put(try Data(contentsOf: url), "cje/" + String(url.path.dropFirst(cje.path.count + 1)))
        }
        try put(try Data(contentsOf: run.manifest), "provenance/manifest.json")
        try put(try Data(contentsOf: run.datasetInfo), "provenance/dataset_info.json")
        try put(Data(DatasetCard(folder: self, configs: configs, stats: stats).text().utf8), "README.md")
        try put(Data("written by cje-prep publish\n".utf8), Self.marker)
        return written
    }
}
