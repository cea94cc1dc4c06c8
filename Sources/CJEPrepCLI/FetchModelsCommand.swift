import ArgumentParser
import CJEPipeline
import CJEProviders
import Foundation

struct FetchModelsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fetch-models",
        abstract: "Download the Hugging Face models a config names into the hub cache (and check those already there).",
        discussion: """
            Asks the Hub where each revision points now (a run uses the cached file without asking), \
            downloads what is missing with resume and retries, checks the sha256 and prints each file's \
            path and commit. HF_ENDPOINT, HF_TOKEN, HF_HUB_CACHE / HF_HOME and HF_HUB_OFFLINE are honoured.
            """)

    @Option(help: "A YAML config (see `cje-prep init`); the built-in default when absent.")
    var config: String?

    func run() async throws {
        let options = try RunOptions.parse(config.map { ["--config", $0] } ?? [])
        let config = try options.load(n: nil)
        let files = try await HubModels.fetch(config, refresh: true, say: { print($0) })
        if files.isEmpty { print("no model in the config is on the Hugging Face Hub (models.*.hf)") }
    }
}

/// A model that could not be fetched: the message alone, exit 1 (not a usage error).
struct ModelFetchFailure: Error, LocalizedError {
    let message: String
    var errorDescription: String? { message }
}

/// The config's Hub models as local files, fetched when missing.
enum HubModels {
    /// Where every model the run uses that is on the Hub is, by config name. `refresh`
    /// asks the Hub where a cached branch points now; otherwise a cached file is used as it is.
    static func fetch(_ config: PipelineConfig, refresh: Bool, say: @escaping @Sendable (String) -> Void) async throws
        -> [String: ModelSource]
    {
        let downloader = HubDownloader()
        var out: [String: ModelSource] = [:]
        for name in EngineCache.usedModels(config).sorted() {
            guard let file = config.models[name]?.hubFile else { continue }
            let fetched: HubDownloader.Fetched
            do {
                fetched = try await downloader.fetch(file, refresh: refresh) { progress in
                    say("model \(name): " + Self.describe(progress))
                }
            } catch let error as HubError {
                throw ModelFetchFailure(message: "models.\(name): \(error.localizedDescription)")
            }
            var line = "model \(name): \(file) -> commit \(fetched.commit.prefix(12)), \(fetched.url.path)"
            if fetched.cached {
                line += " (in the cache at \(downloader.cache.root.path))"
            } else {
                line += String(
                    format: " (downloaded %@ in %d requests, %d retries%@)",
                    Self.bytes(fetched.bytesReceived), fetched.requests, fetched.retries,
                    fetched.bytesResumed > 0 ? ", resumed at \(Self.bytes(fetched.bytesResumed))" : "")
            }
            if refresh || !fetched.cached { say(line) }  // a run logs the cached model with its sha256
            out[name] = ModelSource(path: fetched.url.path, hub: file.description, commit: fetched.commit)
        }
        return out
    }

    static func describe(_ p: HubDownloader.Progress) -> String {
        if p.waiting { return "\(p.file.file): another process is downloading it; waiting for it to finish" }
        var text = "\(p.file.file): \(bytes(p.bytes))"
        if let total = p.total {
            text += String(format: " of %@ (%.0f%%)", bytes(total), 100 * Double(p.bytes) / Double(max(1, total)))
        }
        text += ", " + bytes(Int64(p.bytesPerSecond)) + "/s"
        if let eta = p.etaSeconds { text += String(format: ", ETA %.0f s", eta) }
        return text
    }

    static func bytes(_ n: Int64) -> String {
        let value = Double(n)
        if n >= 1 << 30 { return String(format: "%.2f GB", value / 1_073_741_824) }
        if n >= 1 << 20 { return String(format: "%.1f MB", value / 1_048_576) }
        if n >= 1 << 10 { return String(format: "%.1f kB", value / 1024) }
        return "\(n) B"
    }
}
