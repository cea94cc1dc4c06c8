public import Foundation

/// Where prompts come from and which are kept.
public struct PromptsConfig: Codable, Sendable, Hashable {
    /// "builtin" (30 prompts written for this project), the path of an Arena / prompt file, or
    /// "hf:<owner>/<dataset>" for the Hugging Face datasets-server rows API.
    public var source: String = "builtin"
    public var englishOnly: Bool = true
    public var maxModerationScore: Double?
    /// For "hf:" sources: the dataset's config and split, the server, and a cap on rows read.
    public var hfConfig: String = "default"
    public var hfSplit: String = "train"
    public var hfEndpoint: String = "https://datasets-server.huggingface.co"
    public var maxRows: Int?

    public init() {}

    /// The dataset of an "hf:" source.
    public var huggingFaceDataset: String? { source.hasPrefix("hf:") ? String(source.dropFirst(3)) : nil }

    /// The prompt file of a file source (nil for the built-in prompts and an "hf:" dataset).
    public var file: URL? {
        guard source != "builtin", huggingFaceDataset == nil else { return nil }
        return URL(fileURLWithPath: (source as NSString).expandingTildeInPath)
    }

    /// Which rows are kept.
    public var filter: PromptSource.Filter {
        PromptSource.Filter(englishOnly: englishOnly, maxModerationScore: maxModerationScore)
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case source
        case englishOnly = "english_only"
        case maxModerationScore = "max_moderation_score"
        case hfConfig = "hf_config"
        case hfSplit = "hf_split"
        case hfEndpoint = "hf_endpoint"
        case maxRows = "max_rows"
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        source = try c.decodeIfPresent(String.self, forKey: .source) ?? source
        englishOnly = try c.decodeIfPresent(Bool.self, forKey: .englishOnly) ?? englishOnly
        maxModerationScore = try c.decodeIfPresent(Double.self, forKey: .maxModerationScore)
        hfConfig = try c.decodeIfPresent(String.self, forKey: .hfConfig) ?? hfConfig
        hfSplit = try c.decodeIfPresent(String.self, forKey: .hfSplit) ?? hfSplit
        hfEndpoint = try c.decodeIfPresent(String.self, forKey: .hfEndpoint) ?? hfEndpoint
        maxRows = try c.decodeIfPresent(Int.self, forKey: .maxRows)
    }

    /// The three original keys always; the "hf:" keys only for such a source (so runs made
    /// before they existed keep their fingerprint).
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(source, forKey: .source)
        try c.encode(englishOnly, forKey: .englishOnly)
        try c.encodeIfPresent(maxModerationScore, forKey: .maxModerationScore)
        guard huggingFaceDataset != nil else { return }
        try c.encode(hfConfig, forKey: .hfConfig)
        try c.encode(hfSplit, forKey: .hfSplit)
        try c.encodeIfPresent(maxRows, forKey: .maxRows)
    }
}
