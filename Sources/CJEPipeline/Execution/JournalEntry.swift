/// A finished (or failed) attempt at one work item, as journaled: on disk one JSON line
/// `{"attempt": 1, "policy": "p0", "prompt_id": "...", "value": {...}}`.
public struct JournalEntry<Value: Codable & Sendable & Hashable>: Codable, Sendable, Hashable {
    public var key: ItemKey
    public var attempt: Int
    public var value: Value

    public init(key: ItemKey, attempt: Int, value: Value) {
        self.key = key
        self.attempt = attempt
        self.value = value
    }

    enum CodingKeys: String, CodingKey {
        case policy, draw, attempt, value
        case promptId = "prompt_id"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        key = ItemKey(
            promptId: try c.decode(String.self, forKey: .promptId), policy: try c.decode(String.self, forKey: .policy),
            draw: try c.decodeIfPresent(Int.self, forKey: .draw) ?? 0)
        attempt = try c.decode(Int.self, forKey: .attempt)
        value = try c.decode(Value.self, forKey: .value)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(key.promptId, forKey: .promptId)
        try c.encode(key.policy, forKey: .policy)
        if key.draw > 0 { try c.encode(key.draw, forKey: .draw) }
        try c.encode(attempt, forKey: .attempt)
        try c.encode(value, forKey: .value)
    }

    /// The attempt an item is due for after `previous`: nil when it succeeded (`failed` is false),
    /// failed in a way that would fail again (`permanent`), or has used `maxAttempts`.
    static func nextAttempt(
        after previous: JournalEntry?, failed: (Value) -> Bool, permanent: (Value) -> Bool = { _ in false },
        maxAttempts: Int
    ) -> Int? {
        if let previous, !failed(previous.value) || permanent(previous.value) { return nil }
        let attempt = (previous?.attempt ?? 0) + 1
        return attempt <= maxAttempts ? attempt : nil
    }
}
