/// The local engine's shape: speed and memory only, never results.
public struct EngineConfig: Codable, Sendable, Hashable {
    public var threads: Int?
    /// Sequences decoded together; nil: 32, fewer if their KV cache would pass 4 GiB.
    public var maxSequences: Int?
    public var sequenceContext: Int = 2048

    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable {
        case threads
        case maxSequences = "max_sequences"
        case sequenceContext = "sequence_context"
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        threads = try c.decodeIfPresent(Int.self, forKey: .threads)
        maxSequences = try c.decodeIfPresent(Int.self, forKey: .maxSequences)
        sequenceContext = try c.decodeIfPresent(Int.self, forKey: .sequenceContext) ?? sequenceContext
    }
}
