public import CJEInference
import CJELlama
public import CJEPipeline
import Foundation

/// The llama.cpp wiring of a run: one `LlamaModel` per configured local model, loaded (and
/// refused when this engine cannot compute it batch-invariantly) before anything is written, and
/// one engine per model file, made on first use and shared by every stage.
public final class LlamaModels: LocalModels, Sendable {
    public let config: PipelineConfig
    private let models: [String: LlamaModel]
    private let engines = LockedValue<[String: LlamaEngine]>([:])

    /// The loader `RunSession.open` is given.
    public static let loader: LocalModelLoader = { config, files in try LlamaModels(config: config, files: files) }

    public init(config: PipelineConfig, files: [String: String]) throws {
        self.config = config
        var models: [String: LlamaModel] = [:]
        for (name, path) in files.sorted(by: { $0.key < $1.key }) {
            let loaded = try LlamaModel(path: path, chatTemplate: config.models[name]?.chatTemplate)
            // Refused now, before anything is written, rather than when its engine is made.
            try loaded.checkBatchInvariant()
            models[name] = loaded
        }
        self.models = models
    }

    public var infos: [String: ModelInfo] { models.mapValues(\.info) }
    /// The build's identity, and the tensor types the models repack when they do: a repacked
    /// layout computes other floats than the plain one, so a run made before a type was repacked
    /// is refused on resume (its fingerprint's engine differs), while a model with no such
    /// tensor keeps the identity, and the numbers, it had.
    public var engineIdentity: String {
        let repacked = Set(models.values.flatMap { $0.info.repackedTypes ?? [] }).sorted()
        return LlamaEngine.buildIdentity + (repacked.isEmpty ? "" : " repacked [\(repacked.joined(separator: " "))]")
    }
    public var systemInfo: String { LlamaLog.systemInfo }
    public func routeLog(to sink: (@Sendable (String) -> Void)?) { LlamaLog.route(to: sink) }

    public func engine(for name: String, chatDate: ChatDate) throws -> any TextEngine {
        try engines.access { engines in
            if let engine = engines[name] { return engine }
            guard let model = models[name] else {
                throw PipelineError.impossible("no model named '\(name)' in the config")
            }
            // Models that are the same file with the same template share one engine.
            if let twin = engines.first(where: {
                models[$0.key]?.info.path == model.info.path
                    && models[$0.key]?.info.chatTemplate == model.info.chatTemplate
            })?.value {
                engines[name] = twin
                return twin
            }
            var options = LlamaEngineOptions(sequenceContext: config.engine.sequenceContext)
            options.maxSequences =
                config.engine.maxSequences
                ?? LlamaEngineOptions.automaticSequences(for: model, sequenceContext: config.engine.sequenceContext)
            if let threads = config.engine.threads ?? CPUAllotment.current()?.cpus { options.threads = threads }
            let engine = try LlamaEngine(model: model, options: options, chatDate: chatDate)
            engines[name] = engine
            return engine
        }
    }
}
