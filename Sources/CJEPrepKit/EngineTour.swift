import CJEInference
public import CJELlama
import CJEPipeline
import Foundation

/// `cje-prep demo`: two policies that differ only in their system prompt answer a few prompts;
/// every answer is teacher-forced under both, giving importance weights.
public struct EngineTour: Sendable {
    public var temperature: Double
    public var maxTokens: Int
    public var seed: UInt64

    public init(temperature: Double = 0.5, maxTokens: Int = 96, seed: UInt64 = 42) {
        self.temperature = temperature
        self.maxTokens = maxTokens
        self.seed = seed
    }

    static let prompts = [
        "What is the capital of France?",
        "Give me three tips for sleeping better.",
        "Explain what a hash table is in two sentences.",
        "Write a haiku about autumn rain.",
        "How many legs does a spider have?",
    ]

    static let policies: [(name: String, system: String)] = [
        ("p0", "You are a helpful assistant. Answer clearly, accurately and concisely."),
        ("pi_bad", "You are an unhelpful assistant. Give vague, evasive answers and never address the question."),
    ]

    /// Runs the tour on `engine` (made from `model`); returns what the demo prints.
    public func run(model: LlamaModel, engine: LlamaEngine) async throws -> String {
        var out = [
            "model: \(model.info.name ?? model.info.architecture), \(model.info.parameterCount) parameters, sha256 \(model.info.sha256.prefix(12))"
        ]
        let contexts = try Self.policies.map { policy in
            try Self.prompts.map { try model.promptTokens([.system(policy.system), .user($0)]) }
        }
        var requests: [GenerationRequest] = []
        for (p, policy) in Self.policies.enumerated() {
            for (i, _) in Self.prompts.enumerated() {
                requests.append(
                    GenerationRequest(
                        context: contexts[p][i], temperature: temperature, maxNewTokens: maxTokens,
                        seed: ItemSeed.derive(runSeed: seed, policy: policy.name, item: "demo_\(i)")))
            }
        }
        let started = Date()
        let generated = await engine.generate(requests)
        let generationTime = Date().timeIntervalSince(started)

        // Score every answer (re-tokenized from its text, as the pipeline will) under every policy.
        var scoreRequests: [ScoreRequest] = []
        var rows: [(prompt: Int, policy: Int, result: GenerationResult, responseTokens: [TokenID])] = []
        for (r, outcome) in generated.enumerated() {
            guard case .success(let result) = outcome else { continue }
            let (p, i) = (r / Self.prompts.count, r % Self.prompts.count)
            let tokens = try model.tokenize(response: result.text)
            rows.append((i, p, result, tokens))
            for q in Self.policies.indices {
                scoreRequests.append(
                    ScoreRequest(
                        context: contexts[q][i], response: tokens, appendEndOfTurn: result.finishReason == .stop,
                        temperatures: [temperature]))
            }
        }
        let scoringStarted = Date()
        let scores = await engine.score(scoreRequests)
        let scoringTime = Date().timeIntervalSince(scoringStarted)

        let header = ["policy", "prompt", "answer", "finish", "sampled", "lp p0", "lp pi_bad", "w=pi_bad/p0"]
        var table: [[String]] = []
        for (k, row) in rows.enumerated() {
            let lp = Self.policies.indices.map { q -> Double? in
                try? scores[k * Self.policies.count + q].get().scored[0].total
            }
            let weight = lp[0].flatMap { a in lp[1].map { b in exp(b - a) } }
            table.append([
                Self.policies[row.policy].name,
                Self.preview(Self.prompts[row.prompt], 24),
                Self.preview(row.result.text, 36),
                row.result.finishReason.rawValue,
                Self.format(row.result.sampledLogProb),
                Self.format(lp[0]),
                Self.format(lp[1]),
                weight.map { String(format: "%.3g", $0) } ?? "error",
            ])
        }
        for (r, outcome) in generated.enumerated() {
            if case .failure(let error) = outcome {
                table.append([
                    Self.policies[r / Self.prompts.count].name, Self.preview(Self.prompts[r % Self.prompts.count], 24),
                    "error: \(error.localizedDescription)", "", "", "", "", "",
                ])
            }
        }
        out.append(TextTable.render(header: header, rows: table))
        let retokenized = rows.filter { $0.responseTokens != $0.result.tokens }.count
        if retokenized > 0 {
            out.append(
                "\(retokenized) of \(rows.count) answers re-tokenize differently from the sampled tokens; their sampled and teacher-forced log probs describe different token sequences of the same text."
            )
        }
        let generatedTokens = rows.reduce(0) { $0 + $1.result.tokens.count }
        let scoredTokens = scoreRequests.reduce(0) { $0 + $1.context.count + $1.response.count }
        out.append(
            String(
                format:
                    "generated %d tokens in %.1f s (%.0f tok/s); scored %d answers x %d policies (%d tokens) in %.1f s",
                generatedTokens, generationTime, Double(generatedTokens) / generationTime, rows.count,
                Self.policies.count, scoredTokens, scoringTime))
        out.append(
            "lp = teacher-forced log P(answer | prompt) under each policy at T=\(temperature); sampled = log prob at the decode steps that produced it."
        )
        return out.joined(separator: "\n")
    }

    static func preview(_ text: String, _ width: Int) -> String {
        let flat = text.replacingOccurrences(of: "\n", with: " ").trimmingCharacters(in: .whitespaces)
        return flat.count <= width ? flat : String(flat.prefix(width - 1)) + "…"
    }

    static func format(_ value: Double?) -> String {
        value.map { String(format: "%.2f", $0) } ?? "error"
    }
}
