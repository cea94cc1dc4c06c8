import CJEInference
import CJEPipeline
import CJEProviders
import CJETestSupport
import Foundation

/// A run on the fake engine in a fresh directory: the fast tier's way to drive the pipeline.
struct FakeRun {
    static let yaml = """
        n: 6
        seed: 3
        policies:
          - {name: p0, system_prompt: "You are a helpful assistant.", temperature: 0.5, max_tokens: 40}
          - {name: pi_clone, system_prompt: "You are a helpful assistant.", temperature: 0.5, max_tokens: 40}
          - {name: pi_bad, system_prompt: "You are an unhelpful assistant.", temperature: 0.5, max_tokens: 40}
        oracle: {fraction: 0.5}
        """

    let dir: URL
    var config: PipelineConfig
    var engine: FakeEngine
    let lines = Lines()
    /// This run's own stop flag (a signal's, for tests that stop a run).
    var stop = StopFlag()

    init(_ name: String, yaml: String = FakeRun.yaml, engine: FakeEngine = FakeEngine()) throws {
        dir = temporaryDirectory(name)
        config = try PipelineConfig.parse(yaml, path: "\(name).yaml")
        self.engine = engine
    }

    var run: RunDirectory { RunDirectory(root: dir) }

    var fingerprint: RunFingerprint {
        get throws { try RunFingerprint(config: config, models: ["default": engine.modelInfo.sha256], engine: "fake") }
    }

    var pipeline: Pipeline {
        get throws { try pipeline { _ in } }
    }

    /// The pipeline with `adjust` applied to its settings (a shard's layout, a fake provider).
    func pipeline(_ adjust: (inout Pipeline.Settings) -> Void) throws -> Pipeline {
        let engine = self.engine
        var settings = Pipeline.Settings()
        settings.cacheRoot = dir.appendingPathComponent("cache-root")
        settings.stop = stop
        adjust(&settings)
        return Pipeline(
            config: config, run: run, fingerprint: try fingerprint, engine: { _ in engine },
            say: { [lines] in lines.add($0) }, settings: settings)
    }

    @discardableResult
    func execute(through last: RunStage = .validate) async throws -> [StageReport] {
        try await pipeline.execute(through: last)
    }

    /// A prompt file of `prompts` (ids p0..), set as the run's source.
    mutating func usePrompts(_ prompts: [String]) throws {
        let url = dir.appendingPathComponent("prompts.jsonl")
        let lines = try prompts.enumerated().map { k, text in
            String(decoding: try JSONEncoder().encode(["prompt_id": "q\(k)", "prompt": text]), as: UTF8.self)
        }
        try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: url)
        config.prompts.source = url.path
    }

    /// Every data file the run wrote (not the manifest, logs or journals), by path.
    func outputs() throws -> [String: Data] { try Self.outputs(in: dir) }

    /// Every data file under `dir` (not the manifest, logs or journals), by path.
    static func outputs(in dir: URL) throws -> [String: Data] {
        var out: [String: Data] = [:]
        for folder in ["data", "phase2", "cje"] {
            let root = dir.appendingPathComponent(folder)
            guard let files = FileManager.default.enumerator(at: root, includingPropertiesForKeys: nil) else {
                continue
            }
            for case let url as URL in files where !url.hasDirectoryPath {
                out[folder + "/" + String(url.path.dropFirst(root.path.count + 1))] = try Data(contentsOf: url)
            }
        }
        return out
    }

    func manifest() throws -> Manifest { try Manifest.read(from: run.manifest) }

    func journalLines(_ stage: String) -> [Substring] {
        ((try? String(contentsOf: run.journal(stage), encoding: .utf8)) ?? "").split(separator: "\n")
    }

    func decode<T: Decodable>(_ type: T.Type, _ url: URL) throws -> [T] { try JSONLines.decode(type, from: url) }

    /// A stage context on this run's directory (its manifest written, as a run starts), for
    /// calling one stage directly.
    func context() throws -> StageContext {
        let engine = self.engine
        let manifest = try ManifestStore(run: run, fingerprint: try fingerprint, n: config.n)
        try manifest.save()
        return StageContext(
            config: config, run: run, manifest: manifest,
            providers: ProviderHub(configs: [:], cache: run.providerCache, ledger: SpendLedger(budget: nil)),
            engine: { _ in engine }, cacheRoot: dir, stop: stop, say: { [lines] in lines.add($0) })
    }
}
