public import CJEProviders
public import Foundation

/// A model that could not be fetched: the message alone, exit 1 (not a usage error).
public struct ModelFetchFailure: Error, LocalizedError {
    public let message: String
    public var errorDescription: String? { message }
}

/// The config's Hub models as local files, fetched when missing.
public enum HubModels {
    /// Where every model the run uses that is on the Hub is, by config name. `refresh`
    /// asks the Hub where a cached branch points now; otherwise a cached file is used as it is.
    public static func fetch(_ config: PipelineConfig, refresh: Bool, say: @escaping @Sendable (String) -> Void)
        async throws
        -> [String: ModelSource]
    {
        let downloader = HubDownloader()
        var out: [String: ModelSource] = [:]
        for name in Pipeline.localModels(config).sorted() {
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

    public static func describe(_ p: HubDownloader.Progress) -> String {
        if p.waiting { return "\(p.file.file): another process is downloading it; waiting for it to finish" }
        var text = "\(p.file.file): \(bytes(p.bytes))"
        if let total = p.total {
            text += String(format: " of %@ (%.0f%%)", bytes(total), 100 * Double(p.bytes) / Double(max(1, total)))
        }
        text += ", " + bytes(Int64(p.bytesPerSecond)) + "/s"
        if let eta = p.etaSeconds { text += String(format: ", ETA %.0f s", eta) }
        return text
    }

    public static func bytes(_ n: Int64) -> String {
        let value = Double(n)
        if n >= 1 << 30 { return String(format: "%.2f GB", value / 1_073_741_824) }
        if n >= 1 << 20 { return String(format: "%.1f MB", value / 1_048_576) }
        if n >= 1 << 10 { return String(format: "%.1f kB", value / 1024) }
        return "\(n) B"
    }
}
