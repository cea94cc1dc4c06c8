/// Per-item seeds: a pure function of (run seed, policy, item id), so a resumed or re-ordered
/// run samples exactly what an uninterrupted one would.
public enum ItemSeed {
    /// FNV-1a over the UTF-8 of "policy\u{0}item", mixed with the run seed through SplitMix64.
    public static func derive(runSeed: UInt64, policy: String, item: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in policy.utf8 + [0] + item.utf8 {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01b3
        }
        var mixer = SplitMix64(seed: runSeed ^ hash)
        return mixer.next()
    }

    /// `values` in seeded order: ascending `derive(runSeed, stream, item)`, ties broken by item,
    /// then stream. The same seed ranks the same values the same way on every platform, and a
    /// prefix of the ranking stays a prefix when values are added. Each key is derived once.
    public static func ranked<T>(
        _ values: [T], runSeed: UInt64, key: (T) -> (stream: String, item: String)
    ) -> [T] {
        let keyed = values.map { value in
            let (stream, item) = key(value)
            return (
                hash: derive(runSeed: runSeed, policy: stream, item: item), item: item, stream: stream, value: value
            )
        }
        return keyed.sorted { ($0.hash, $0.item, $0.stream) < ($1.hash, $1.item, $1.stream) }.map(\.value)
    }
}
