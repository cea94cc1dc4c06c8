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
}
