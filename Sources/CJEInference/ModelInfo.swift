/// What a loaded model says about itself.
public struct ModelInfo: Sendable, Hashable, Codable {
    /// The file it was loaded from.
    public var path: String
    /// sha256 of the file, lowercase hex.
    public var sha256: String
    /// `general.architecture` from the GGUF metadata, e.g. "llama".
    public var architecture: String
    /// `general.name` when the file has one.
    public var name: String?
    public var parameterCount: UInt64
    public var vocabularySize: Int
    /// The context length the model was trained with.
    public var contextLength: Int
    /// Every token that ends generation (end of turn, end of text, ...).
    public var endOfGenerationTokens: [TokenID]
    /// The token appended (and scored) when a response ended naturally.
    public var endOfTurnToken: TokenID
    /// The file carries a chat template of its own.
    public var hasChatTemplate: Bool
    /// The template conversations are rendered with (nil: none, so nothing can be rendered).
    public var chatTemplate: ChatTemplateInfo?
    /// How many tensors of each type the file holds ("Q4_K": 97, "F32": 61, ...).
    public var tensorTypes: [String: Int]
    /// The tensor types whose weights the engine keeps in a repacked layout (faster products,
    /// proven batch-invariant), e.g. ["Q4_0"]; nil when every weight is in the file's own layout.
    public var repackedTypes: [String]?
    /// The model's attention memory: "full" (every layer attends over the whole sequence),
    /// "sliding window" (some layers see only the last `n` tokens), "recurrent" or "hybrid".
    public var memory: String
    /// Why this model cannot be batch-invariant on this engine (nil: it is).
    public var notBatchInvariant: String?

    public init(
        path: String, sha256: String, architecture: String, name: String?, parameterCount: UInt64,
        vocabularySize: Int, contextLength: Int, endOfGenerationTokens: [TokenID], endOfTurnToken: TokenID,
        hasChatTemplate: Bool, chatTemplate: ChatTemplateInfo? = nil, tensorTypes: [String: Int] = [:],
        repackedTypes: [String]? = nil, memory: String = "full", notBatchInvariant: String? = nil
    ) {
        self.path = path
        self.sha256 = sha256
        self.architecture = architecture
        self.name = name
        self.parameterCount = parameterCount
        self.vocabularySize = vocabularySize
        self.contextLength = contextLength
        self.endOfGenerationTokens = endOfGenerationTokens
        self.endOfTurnToken = endOfTurnToken
        self.hasChatTemplate = hasChatTemplate
        self.chatTemplate = chatTemplate
        self.tensorTypes = tensorTypes
        self.repackedTypes = repackedTypes
        self.memory = memory
        self.notBatchInvariant = notBatchInvariant
    }
}
