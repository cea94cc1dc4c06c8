/// How a judge's deterministic score is obtained from a local model.
public enum DeterministicRule: String, Codable, Sendable, Hashable, CaseIterable {
    /// The most probable of the eleven answers " 0" ... " 10" (exact, always a valid score).
    case argmax
    /// Greedy decoding, parsed strictly (a small model may answer "3.5 out of 5": null + error).
    case greedy
}
