/// A local GGUF model.
public struct ModelConfig: Codable, Sendable, Hashable {
    /// The GGUF file; for "default", absent means the SmolLM2 demo model.
    public var path: String?
    /// A chat template for models that have none (e.g. "chatml").
    public var chatTemplate: String?

    public init(path: String? = nil, chatTemplate: String? = nil) {
        self.path = path
        self.chatTemplate = chatTemplate
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case path
        case chatTemplate = "chat_template"
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        path = try c.decodeIfPresent(String.self, forKey: .path)
        chatTemplate = try c.decodeIfPresent(String.self, forKey: .chatTemplate)
    }
}
