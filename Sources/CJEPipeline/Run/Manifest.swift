public import CJEInference
public import Foundation

/// The run manifest (`manifest.json`): fingerprint, stage reports, provider totals, times.
public struct Manifest: Codable, Sendable {
    public var tool: String
    public var fingerprint: RunFingerprint
    public var n: Int
    public var stages: [String: StageReport]
    /// Every provider's usage over every invocation in this directory (a merged run's shards
    /// keep theirs in `shards`).
    public var providers: [String: ProviderUsage]?
    public var created: Date
    public var updated: Date
    /// For a shard's directory: which shard it is.
    public var shard: Shard?
    /// The machine of the last invocation.
    public var node: NodeInfo?
    /// Where each local model was loaded from by the last invocation (its sha256 is in the
    /// fingerprint).
    public var models: [String: ModelSource]?
    /// How the last invocation ended.
    public var outcome: RunOutcome?
    /// For a merged run: its shards, as the last merge found them.
    public var shards: [ShardRecord]?
    /// What the prompts stage wrote and left out, as it last ran.
    public var prompts: PromptsOutcome?
    /// For a Hugging Face prompt source: the rows the run read ("N rows, sha256 ..."); a later
    /// invocation that reads other rows is refused.
    public var promptRows: String?
    /// The day date-reading chat templates render (`chat-date` in the run directory).
    public var chatDate: ChatDate?
    /// The model id each provider answered with first (`model` in its responses): a later answer
    /// with another id stops the run, since the run's numbers would mix two models.
    public var servedModels: [String: String]?
    /// Seconds of the last invocation's work outside the item stages: loading the local models
    /// ("models"), and the stages without items ("prompts", "export", "validate").
    public var parts: [String: Double]?

    /// Every provider's usage over the whole run: this directory's and its merged shards'.
    public var providersOverall: [String: ProviderUsage] {
        (shards ?? []).reduce(providers ?? [:]) { $0.merging($1.providers ?? [:], uniquingKeysWith: +) }
    }

    /// Reads a manifest file; an unreadable or malformed one is an error naming it.
    public static func read(from url: URL) throws -> Manifest {
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw PipelineError.unreadable(path: url.path, detail: FileFailure.describe(error))
        }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        do {
            return try decoder.decode(Manifest.self, from: data)
        } catch {
            throw PipelineError.malformedFile(path: url.path, detail: JSONLines.describe(error))
        }
    }

    /// Writes it whole (temporary file, then rename), stamped with the time.
    func write(to url: URL) throws {
        var manifest = self
        manifest.updated = Date()
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.dateEncodingStrategy = .iso8601
        try AtomicFile.write(try encoder.encode(manifest), to: url)
    }
}

/// The prompts stage's outcome: prompts written, and prompts left out by reason ("too_long":
/// passed over in the sample's ranking because they cannot fit a sequence; "empty": in the
/// source).
public struct PromptsOutcome: Codable, Sendable, Hashable {
    public var written: Int
    public var leftOut: [String: Int]
    /// The non-empty prompts the source holds (nil in manifests written before it was kept).
    public var sourceSize: Int?

    public init(written: Int, leftOut: [String: Int], sourceSize: Int? = nil) {
        self.written = written
        self.leftOut = leftOut
        self.sourceSize = sourceSize
    }

    enum CodingKeys: String, CodingKey {
        case written
        case leftOut = "left_out"
        case sourceSize = "source_size"
    }
}

/// Where a model was loaded from: its file, and for a model named by Hugging Face reference the
/// reference and the commit it resolved to.
public struct ModelSource: Codable, Sendable, Hashable, CustomStringConvertible {
    public var path: String
    /// `hf:org/name/file@revision`.
    public var hub: String?
    public var commit: String?

    public init(path: String, hub: String? = nil, commit: String? = nil) {
        self.path = path
        self.hub = hub
        self.commit = commit
    }

    /// "path (hf:org/name/file@main at commit <40 hex>)", or the path.
    public var description: String {
        guard let hub else { return path }
        return "\(path) (\(hub)\(commit.map { " at commit \($0)" } ?? ""))"
    }

    /// As the report shows it: the reference with a 12-digit commit, or the file's name.
    public var short: String {
        guard let hub else { return (path as NSString).lastPathComponent }
        return hub + (commit.map { " at commit \($0.prefix(12))" } ?? "")
    }
}
