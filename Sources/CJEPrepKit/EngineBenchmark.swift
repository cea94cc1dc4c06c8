import CJEInference
public import CJELlama
import CJEPipeline
import Foundation

/// `cje-prep bench`: the engine beside llama.cpp's own tools on the same model and threads, in
/// one run, round after round (medians; each ratio is taken within its round, so a machine whose
/// speed drifts between rounds still compares like with like). A measurement, not a test.
///
/// - teacher forcing: 512-token sequences whose second half is scored, as `llama-perplexity
///   -c 512` of the same library does them (and beside a stock `llama-bench` pp512);
/// - generation at 1, 8, 32 ... sequences: 128-token contexts and 128 new tokens each, the steps
///   in which every sequence draws and no context is fed timed as `llama-batched-bench` times S_TG
///   (same library, flash attention off, KV stream per sequence), and beside a stock `llama-bench`
///   tg128;
/// - the judge: rubric prompts with the eleven answers and a greedy answer, prefix reuse on.
///
/// Each measurement times only the work it names: engines are made, and their KV caches
/// allocated, before the clock starts. Each phase reports its peak resident memory and the share
/// of its time spent outside llama_decode (this package's own work).
public struct EngineBenchmark: Sendable {
    /// The model's file (the reference tools load it themselves).
    public var modelPath: String
    public var threads: Int
    /// Rounds of every measurement; figures are medians over them.
    public var rounds = 3
    /// Sequences decoded together in the generation sweep.
    public var sequences = [1, 8, 32]
    /// Context and new tokens per generated sequence (`llama-batched-bench -npp -ntg`).
    public var contextTokens = 128
    public var newTokens = 128
    /// 512-token sequences to teacher-force (`llama-perplexity --chunks`).
    public var scoreSequences = 16
    /// Judge items (a rubric prompt and a ~200-token answer each).
    public var judgeItems = 16
    /// Where `llama-batched-bench` and `llama-perplexity` of this library are (default:
    /// $LLAMA_PREFIX/bin, then PATH); a missing tool leaves its figures out.
    public var toolsDirectory: String?
    /// A llama-bench of a stock llama.cpp build (its default flags), for pp512 and tg128.
    public var stockLlamaBench: String?
    /// Told each round's progress (to stderr in the CLI).
    public var say: @Sendable (String) -> Void = { _ in }

    public init(modelPath: String, threads: Int) {
        self.modelPath = modelPath
        self.threads = threads
    }

    /// Every figure by name: medians over the rounds, ratios within each round (median),
    /// peak memory the largest seen.
    public func measure(model: LlamaModel) async throws -> [String: Double] {
        let inputs = try BenchInputs(model: model, benchmark: self)
        let references = ReferenceTools(benchmark: self, text: inputs.perplexityText)
        defer { references.cleanUp() }
        var samples: [String: [Double]] = [:]
        var peaks: [String: Double] = [:]
        for round in 1...max(1, rounds) {
            say("round \(round) of \(rounds): llama.cpp's tools")
            var figures = references.measure()
            say("round \(round) of \(rounds): cje-prep")
            for (key, value) in try await measureEngine(model: model, inputs: inputs) {
                if key.hasSuffix("_peak_rss_mb") {
                    peaks[key] = max(peaks[key] ?? 0, value)
                } else {
                    figures[key] = value
                }
            }
            Self.addRatios(&figures)
            for (key, value) in figures { samples[key, default: []].append(value) }
        }
        var result = samples.mapValues(Self.median)
        result.merge(peaks) { $1 }
        result["rounds"] = Double(max(1, rounds))
        result["threads"] = Double(threads)
        return result
    }

    /// One round of the engine's own measurements.
    private func measureEngine(model: LlamaModel, inputs: BenchInputs) async throws -> [String: Double] {
        var figures: [String: Double] = [:]
        // Teacher forcing on the engine a run gets (its automatic sequence count).
        let automatic = LlamaEngineOptions.automaticSequences(for: model, sequenceContext: 2048)
        let scorer = try LlamaEngine(
            model: model, options: LlamaEngineOptions(threads: threads, maxSequences: automatic))
        try scorer.reserve(
            sequences: max(inputs.scoring.count, inputs.judgeItems.count), tokens: max(512, inputs.judgeLongest))
        _ = scorer.scoreNow(Array(inputs.scoring.prefix(1)))  // warm-up
        var failures = 0
        phase("tf", engine: scorer, into: &figures) {
            failures = scorer.scoreNow(inputs.scoring).filter { (try? $0.get()) == nil }.count
            return Double(inputs.scoringTokens)
        }
        figures["tf_failures"] = Double(failures)
        // The judge, prefix reuse on, as a run judges.
        let judge = LocalRubricScorer(rubric: .judge, engine: scorer, maxTokens: 8, rule: .argmax)
        let started = Date()
        let before = scorer.timings
        PeakMemory.reset()
        _ = await judge.judge(inputs.judgeItems)
        let elapsed = Date().timeIntervalSince(started)
        figures["judge_items_s"] = Double(inputs.judgeItems.count) / elapsed
        figures["judge_tok_s"] = Double(inputs.judgeTokens) / elapsed
        figures["judge_outside_decode"] = scorer.timings.outsideDecode(since: before)
        if let peak = PeakMemory.megabytes { figures["judge_peak_rss_mb"] = peak }

        for count in sequences {
            let engine = try LlamaEngine(
                model: model,
                options: LlamaEngineOptions(threads: threads, maxSequences: count, batchSize: max(512, count)))
            try engine.reserve(sequences: count, tokens: contextTokens + newTokens)
            let requests = (0..<count).map {
                GenerationRequest(
                    context: inputs.generationContexts[$0 % inputs.generationContexts.count], temperature: 1.0,
                    maxNewTokens: newTokens, seed: UInt64($0 + 1))
            }
            let before = engine.timings
            var drawn = 0
            phase("gen\(count)", engine: engine, into: &figures) {
                let results = engine.generateNow(requests)
                drawn = results.reduce(0) { $0 + ((try? $1.get().tokenLogProbs.count) ?? 0) }
                return Double(drawn)
            }
            // Below count x newTokens when answers ended early (the last steps then held fewer sequences).
            figures["gen\(count)_tokens"] = Double(drawn)
            figures["gen\(count)_tok_s"] = engine.timings.stepRate(since: before)
        }
        return figures
    }

    /// Times `work` (which returns the tokens it processed) on `engine`: `<name>_total_tok_s`,
    /// `<name>_outside_decode`, `<name>_peak_rss_mb`; teacher forcing's rate is `tf_tok_s`.
    private func phase(
        _ name: String, engine: LlamaEngine, into figures: inout [String: Double], _ work: () -> Double
    ) {
        let before = engine.timings
        PeakMemory.reset()
        let started = Date()
        let tokens = work()
        let elapsed = Date().timeIntervalSince(started)
        figures[name == "tf" ? "tf_tok_s" : "\(name)_total_tok_s"] = tokens / elapsed
        figures["\(name)_outside_decode"] = engine.timings.outsideDecode(since: before)
        if let peak = PeakMemory.megabytes { figures["\(name)_peak_rss_mb"] = peak }
    }

    /// The ratios of one round, where both of their figures were measured.
    static func addRatios(_ figures: inout [String: Double]) {
        func ratio(_ key: String, _ a: String, _ b: String) {
            if let x = figures[a], let y = figures[b], y > 0 { figures[key] = x / y }
        }
        ratio("tf_vs_perplexity", "tf_tok_s", "perplexity_tok_s")
        ratio("tf_vs_stock_pp512", "tf_tok_s", "stock_pp512_tok_s")
        for key in figures.keys where key.hasPrefix("gen") && key.hasSuffix("_tok_s") && !key.contains("total") {
            let count = key.dropFirst(3).dropLast(6)
            ratio("gen\(count)_vs_batched_bench", key, "batched_bench\(count)_tg_tok_s")
            ratio("gen\(count)_vs_stock_tg128", key, "stock_tg128_tok_s")
        }
    }

    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        guard !sorted.isEmpty else { return .nan }
        let mid = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
    }

    static let question = "Summarise the main causes of the industrial revolution and its effects on daily life."
    static let paragraph =
        "The industrial revolution began in Britain in the late eighteenth century, when new machines, "
        + "cheap coal and growing trade changed how goods were made. Workers moved from farms to towns, "
        + "factories set the rhythm of the day, and railways carried people and products further than ever before."
}

/// The requests of every round, made once.
struct BenchInputs {
    var scoring: [ScoreRequest] = []
    var scoringTokens = 0
    var generationContexts: [[TokenID]] = []
    var judgeItems: [RubricItem] = []
    var judgeTokens = 0
    /// Tokens the longest judge item's sequence holds (its prompt, the answer and room for the greedy answer).
    var judgeLongest = 0
    /// Text for llama-perplexity: the scored sequences' text, enough for its chunks.
    var perplexityText = ""

    init(model: LlamaModel, benchmark: EngineBenchmark) throws {
        let text = (0..<64).map { "Part \($0). " + EngineBenchmark.paragraph }.joined(separator: " ")
        let tokens = try model.tokenize(response: text)
        precondition(tokens.count >= 1_024, "the benchmark's text is shorter than two sequences")
        for i in 0..<benchmark.scoreSequences {
            // 512 tokens from a different place each time; the first half is context.
            let start = (i * 37) % (tokens.count - 512)
            let window = Array(tokens[start..<(start + 512)])
            scoring.append(
                ScoreRequest(
                    context: Array(window.prefix(256)), response: Array(window.suffix(256)), appendEndOfTurn: false,
                    temperatures: [1.0]))
        }
        scoringTokens = scoring.count * 512
        for i in 0..<max(benchmark.sequences.max() ?? 1, 1) {
            let start = (i * 53) % (tokens.count - benchmark.contextTokens)
            generationContexts.append(Array(tokens[start..<(start + benchmark.contextTokens)]))
        }
        judgeItems = (0..<benchmark.judgeItems).map { i in
            RubricItem(
                prompt: "Question \(i): " + EngineBenchmark.question,
                response: "Answer \(i). " + String(repeating: EngineBenchmark.paragraph + " ", count: 3))
        }
        let judgePrompts = try judgeItems.map {
            try model.promptTokens(Rubric.judge.messages(prompt: $0.prompt, response: $0.response)).count
        }
        judgeTokens = judgePrompts.reduce(0, +)
        judgeLongest = (judgePrompts.max() ?? 0) + 32
        perplexityText = String(
            repeating: text + "\n\n", count: max(1, benchmark.scoreSequences * 512 / tokens.count + 1))
    }
}

/// The process's peak resident memory since the last reset (Linux: VmHWM, reset through
/// /proc/self/clear_refs), so each phase reports its own peak.
enum PeakMemory {
    static func reset() {
        try? Data("5".utf8).write(to: URL(fileURLWithPath: "/proc/self/clear_refs"))
    }

    static var megabytes: Double? {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
            let kb = Double(line.split(separator: " ").dropFirst().first ?? "")
        else { return nil }
        return kb / 1024
    }
}
