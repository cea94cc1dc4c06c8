import CJEInference
import Foundation

/// Whether an endpoint applies a request's temperature T to its prompt log probs, shown before
/// any value at T is taken from it: one probe prompt is scored at T and at 1, and at every
/// position the gaps between the listed tokens' log probs at T must be those at 1 divided by T,
/// as log_softmax(z / T) predicts (the normaliser cancels in a gap). An endpoint that ignores T
/// gives the same values twice; one that applies something else gives other gaps. Either stops
/// the run (`ProbeFailure`), naming the provider and what it did.
struct TemperatureProbe: Sendable {
    let client: any TeacherForcingProvider
    let provider: String

    /// How far a gap may be from the prediction, in nats (float32 logits, double arithmetic).
    static let tolerance = 1e-3
    /// Alternatives asked for at each position.
    static let alternatives = 5

    func check(_ temperature: Double) async throws {
        let question: [ChatMessage] = [.system("You are a helpful assistant."), .user("Name three rivers.")]
        let ids =
            try await client.templateTokens(question, addGenerationPrompt: true)
            + client.textTokens("The Nile, the Amazon and the Danube.")
        let hot = try await client.promptLogprobs(
            ids, temperature: temperature, alternatives: Self.alternatives, cacheTag: "probe")
        let plain = try await client.promptLogprobs(
            ids, temperature: nil, alternatives: Self.alternatives, cacheTag: "probe")
        var compared = 0
        var worst = 0.0
        var same = true
        for (atT, atOne) in zip(hot.listed, plain.listed) {
            let common = Set(atT.keys).intersection(atOne.keys).sorted()
            guard let first = common.first, common.count > 1 else { continue }
            for token in common.dropFirst() {
                guard let t0 = atT[first], let t1 = atT[token], let o0 = atOne[first], let o1 = atOne[token] else {
                    continue
                }
                compared += 1
                worst = max(worst, abs((t1 - t0) - (o1 - o0) / temperature))
                if t1 - t0 != o1 - o0 { same = false }
            }
        }
        guard compared > 0 else {
            throw ProbeFailure(
                provider: provider, temperature: temperature,
                finding: "listed no two tokens at any position (prompt_logprobs: \(Self.alternatives))")
        }
        if same {
            throw ProbeFailure(
                provider: provider, temperature: temperature,
                finding:
                    "gave the same log probs at \(temperature) as at 1 (\(compared) gaps): it ignores the temperature"
            )
        }
        if worst > Self.tolerance {
            throw ProbeFailure(
                provider: provider, temperature: temperature,
                finding: String(
                    format:
                        "gave log-prob gaps at %g up to %.3g nats from log_softmax(z / %g)'s (%d gaps): it applies something else",
                    temperature, worst, temperature, compared))
        }
    }
}

/// An endpoint declared with `temperature_probe` does not apply the temperature: its log probs
/// at T would be wrong, so the run stops (everything finished is kept).
struct ProbeFailure: ClassifiedError, LocalizedError {
    var provider: String
    var temperature: Double
    var finding: String
    var failureKind: FailureKind { .fatal }

    var errorDescription: String? {
        "provider '\(provider)' (temperature_probe: true) \(finding), so its prompt log probs at temperature \(temperature) cannot be taken. Remove temperature_probe (the policies at \(temperature) are then refused at load: use temperature 1, or drop teacher_forcing for a Direct-mode run)"
    }
}
