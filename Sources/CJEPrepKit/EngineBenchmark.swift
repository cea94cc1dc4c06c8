import CJEInference
public import CJELlama
import CJEPipeline
import Foundation

/// `cje-prep bench`: the engine's throughput beside llama-bench's, same model and threads, in
/// one run: teacher forcing, the judge with and without prefix reuse, generation at 1-64
/// sequences. A measurement, not a test.
public struct EngineBenchmark: Sendable {
    /// The model's file (llama-bench loads it itself).
    public var modelPath: String
    public var threads: Int
    /// Sequences of about 600 tokens to teacher-force.
    public var scoreSequences = 16
    /// New tokens per generated sequence.
    public var genTokens = 128
    /// Sequences decoded together in the generation sweep, comma-separated.
    public var genSequences = "1,8,16,32,64"
    /// Judge items (a rubric prompt and a ~200-token answer each).
    public var judgeItems = 16
    /// The llama-bench binary (default: $LLAMA_PREFIX/bin/llama-bench, then PATH).
    public var llamaBench: String?
    /// A llama-bench of a stock llama.cpp build, measured in the same run for reference.
    public var stockLlamaBench: String?

    public init(modelPath: String, threads: Int) {
        self.modelPath = modelPath
        self.threads = threads
    }

    /// Every figure of the benchmark on `model` (its file at `modelPath`, for llama-bench), by name.
    public func measure(model: LlamaModel) async throws -> [String: Double] {
        let engine = try LlamaEngine(model: model, options: LlamaEngineOptions(threads: threads, maxSequences: 8))
        var figures: [String: Double] = [:]

        // Teacher forcing: 600-token sequences (a ~100-token prompt and a ~500-token response).
        let filler = String(repeating: Self.paragraph + " ", count: 12)
        var requests: [ScoreRequest] = []
        for i in 0..<scoreSequences {
            let context = try model.promptTokens([
                .system("You are a helpful assistant."), .user("Question \(i): " + Self.question),
            ])
            let response = Array(try model.tokenize(response: "Answer \(i). " + filler).prefix(600 - context.count))
            requests.append(
                ScoreRequest(context: context, response: response, appendEndOfTurn: true, temperatures: [1.0]))
        }
        _ = engine.scoreNow(Array(requests.prefix(1)))  // warm-up
        var started = Date()
        let scored = engine.scoreNow(requests)
        let scoreTime = Date().timeIntervalSince(started)
        let failures = scored.filter { if case .failure = $0 { true } else { false } }.count
        let tokens = requests.reduce(0) { $0 + $1.context.count + $1.response.count }
        figures["score_tok_s"] = Double(tokens) / scoreTime
        figures["score_sequences"] = Double(requests.count)
        figures["score_failures"] = Double(failures)

        // The same 600 tokens with one output each (all but the last token as context): how much
        // of teacher forcing's cost is the output layer and log-softmax at every response position.
        let ingest = requests.map {
            ScoreRequest(
                context: $0.context + $0.response.dropLast(), response: Array($0.response.suffix(1)),
                appendEndOfTurn: false,
                temperatures: [1.0])
        }
        started = Date()
        _ = engine.scoreNow(ingest)
        figures["ingest_tok_s"] = Double(tokens) / Date().timeIntervalSince(started)

        // The judge: rubric prompts of about 550 tokens (about 350 of them the rubric's shared
        // prefix) with the eleven answers and a greedy answer, with and without prefix reuse.
        let items = (0..<judgeItems).map { i in
            RubricItem(
                prompt: "Question \(i): " + Self.question,
                response: "Answer \(i). " + String(repeating: Self.paragraph + " ", count: 3))
        }
        let judgeTokens = try items.reduce(0) {
            $0 + (try model.promptTokens(Rubric.judge.messages(prompt: $1.prompt, response: $1.response))).count
        }
        var verdicts: [[JudgeValue]] = []
        for reuse in [false, true] {
            let judgeEngine = try LlamaEngine(
                model: model, options: LlamaEngineOptions(threads: threads, maxSequences: 8, reusePrefixes: reuse))
            let scorer = LocalRubricScorer(rubric: .judge, engine: judgeEngine, maxTokens: 8, rule: .argmax)
            started = Date()
            verdicts.append(await scorer.judge(items))
            let elapsed = Date().timeIntervalSince(started)
            let key = reuse ? "judge_reuse" : "judge_plain"
            figures[key + "_items_s"] = Double(items.count) / elapsed
            figures[key + "_tok_s"] = Double(judgeTokens) / elapsed
        }
        figures["judge_reuse_identical"] = verdicts[0] == verdicts[1] ? 1 : 0
        if let reuse = figures["judge_reuse_items_s"], let plain = figures["judge_plain_items_s"] {
            figures["judge_speedup"] = reuse / plain  // both measured just above
        }

        // Generation: aggregate tokens/s with 1 ... 64 sequences in flight, peak RSS each.
        let context = try model.promptTokens([.system("You are a helpful assistant."), .user(Self.question)])
        var sweep: [Int] = []
        for parallel in genSequences.split(separator: ",").compactMap({ Int($0.trimmingCharacters(in: .whitespaces)) })
        {
            sweep.append(parallel)
            let genEngine = try LlamaEngine(
                model: model,
                options: LlamaEngineOptions(threads: threads, maxSequences: parallel, batchSize: max(512, parallel)))
            let gen = (0..<parallel).map {
                GenerationRequest(context: context, temperature: 1.0, maxNewTokens: genTokens, seed: UInt64($0 + 1))
            }
            PeakMemory.reset()
            started = Date()
            let results = genEngine.generateNow(gen)
            let elapsed = Date().timeIntervalSince(started)
            let produced = results.reduce(0) { $0 + ((try? $1.get().tokens.count) ?? 0) }
            figures["gen\(parallel)_tok_s"] = Double(produced) / elapsed
            if let peak = PeakMemory.megabytes { figures["gen\(parallel)_peak_rss_mb"] = peak }
        }

        // The reference: llama-bench, same model and threads, flash attention off and on; and a
        // stock build's, when one is given.
        if let bench = locateLlamaBench() {
            for fa in [0, 1] {
                if let (pp, tg) = try runLlamaBench(bench, threads: threads, flashAttention: fa) {
                    figures["llama_bench_pp512_fa\(fa)_tok_s"] = pp
                    figures["llama_bench_tg128_fa\(fa)_tok_s"] = tg
                }
            }
        }
        if let stockLlamaBench, let (pp, tg) = try runLlamaBench(stockLlamaBench, threads: threads, flashAttention: 0) {
            figures["stock_pp512_tok_s"] = pp
            figures["stock_tg128_tok_s"] = tg
        }
        // Ratios only where both figures were measured (a llama-bench that failed gives none).
        func ratio(_ key: String, _ a: String, _ b: String) {
            if let x = figures[a], let y = figures[b] { figures[key] = x / y }
        }
        ratio("score_vs_pp_fa0", "score_tok_s", "llama_bench_pp512_fa0_tok_s")
        ratio("score_vs_pp_fa1", "score_tok_s", "llama_bench_pp512_fa1_tok_s")
        for parallel in sweep {
            ratio("gen\(parallel)_vs_tg_fa0", "gen\(parallel)_tok_s", "llama_bench_tg128_fa0_tok_s")
            ratio("gen\(parallel)_vs_stock_tg", "gen\(parallel)_tok_s", "stock_tg128_tok_s")
        }
        ratio("score_vs_stock_pp", "score_tok_s", "stock_pp512_tok_s")
        figures["threads"] = Double(threads)
        return figures
    }

    /// The figures as `cje-prep bench` prints them.
    public func table(_ figures: [String: Double], model: LlamaModel) -> String {
        var out: [String] = []
        let sweep = genSequences.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        func f(_ key: String) -> String { figures[key].map { String(format: "%.1f", $0) } ?? "n/a" }
        func r(_ key: String) -> String { figures[key].map { String(format: "%.2f", $0) } ?? "n/a" }
        out.append("model \(model.info.name ?? model.info.architecture), \(threads) threads")
        var rows: [[String]] = [
            [
                "teacher forcing, 600-token seqs vs pp512", f("score_tok_s"), f("llama_bench_pp512_fa0_tok_s"),
                r("score_vs_pp_fa0"), f("stock_pp512_tok_s"), r("score_vs_stock_pp"), "",
            ],
            [
                "context only (1 output per sequence) vs pp512", f("ingest_tok_s"),
                f("llama_bench_pp512_fa0_tok_s"), "", f("stock_pp512_tok_s"), "", "",
            ],
            [
                "judge, \(judgeItems) items, no prefix reuse (tok/s; items/s)", f("judge_plain_tok_s"), "", "", "", "",
                r("judge_plain_items_s"),
            ],
            [
                "judge, \(judgeItems) items, prefix reuse (tok/s; items/s)", f("judge_reuse_tok_s"), "", "", "", "",
                r("judge_reuse_items_s"),
            ],
        ]
        for parallel in sweep {
            rows.append([
                "generation, \(parallel) sequences vs tg128 (peak RSS)", f("gen\(parallel)_tok_s"),
                f("llama_bench_tg128_fa0_tok_s"), r("gen\(parallel)_vs_tg_fa0"), f("stock_tg128_tok_s"),
                r("gen\(parallel)_vs_stock_tg"), f("gen\(parallel)_peak_rss_mb").appending(" MB"),
            ])
        }
        out.append(
            TextTable.render(
                header: [
                    "measure", "cje-prep tok/s", "llama-bench (this build)", "ratio", "llama-bench (stock)", "ratio",
                    "other",
                ], rows: rows))
        out.append(
            "judge with prefix reuse: \(r("judge_speedup"))x the items/s, verdicts \(figures["judge_reuse_identical"] == 1 ? "bit-identical" : "DIFFERENT")"
        )
        out.append(
            "llama-bench rows: flash attention off, as cje-prep runs; \(stockLlamaBench.map { "stock build: \($0)" } ?? "no stock build given (--stock-llama-bench)")"
        )
        return out.joined(separator: "\n")
    }

    private func locateLlamaBench() -> String? {
        if let llamaBench { return llamaBench }
        var candidates: [String] = []
        if let prefix = ProcessInfo.processInfo.environment["LLAMA_PREFIX"] {
            candidates.append(prefix + "/bin/llama-bench")
        }
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":") {
            candidates.append(dir + "/llama-bench")
        }
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Runs llama-bench once and returns (pp512, tg128) tokens/s.
    private func runLlamaBench(_ path: String, threads: Int, flashAttention: Int) throws -> (Double, Double)? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = [
            "-m", modelPath, "-t", String(threads), "-p", "512", "-n", "128", "-fa", String(flashAttention),
            "-r", "3", "-o", "json",
        ]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0,
            let rows = try? JSONSerialization.jsonObject(with: data) as? [[String: Any]]
        else { return nil }
        var pp: Double?
        var tg: Double?
        for row in rows {
            let ts = row["avg_ts"] as? Double
            if (row["n_prompt"] as? Int ?? 0) > 0 { pp = ts } else { tg = ts }
        }
        guard let pp, let tg else { return nil }
        return (pp, tg)
    }

    static let question = "Summarise the main causes of the industrial revolution and its effects on daily life."
    static let paragraph =
        "The industrial revolution began in Britain in the late eighteenth century, when new machines, "
        + "cheap coal and growing trade changed how goods were made. Workers moved from farms to towns, "
        + "factories set the rhythm of the day, and railways carried people and products further than ever before."
}

/// The process's peak resident memory since the last reset (Linux: VmHWM, reset through
/// /proc/self/clear_refs), so each setting of a sweep reports its own peak.
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
