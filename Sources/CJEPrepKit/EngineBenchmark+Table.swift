public import CJELlama
import CJEPipeline
import Foundation

extension EngineBenchmark {
    /// The figures as `cje-prep bench` prints them: each measure beside its reference, the ratio
    /// and the goal the product sets for it.
    public func table(_ figures: [String: Double], model: LlamaModel) -> String {
        func f(_ key: String, _ format: String = "%.1f") -> String {
            figures[key].map { String(format: format, $0) } ?? "n/a"
        }
        func percent(_ key: String) -> String { figures[key].map { String(format: "%.1f%%", $0 * 100) } ?? "" }
        func memory(_ key: String) -> String { figures[key].map { String(format: "%.0f MB", $0) } ?? "" }
        var rows: [[String]] = [
            [
                "teacher forcing, 512-token sequences", f("tf_tok_s"), "llama-perplexity -c 512",
                f("perplexity_tok_s"), f("tf_vs_perplexity", "%.2f"), ">= 0.95", memory("tf_peak_rss_mb"),
                percent("tf_outside_decode"),
            ],
            [
                "", "", "llama-bench pp512, stock build", f("stock_pp512_tok_s"), f("tf_vs_stock_pp512", "%.2f"),
                ">= 0.90",
            ],
        ]
        for count in sequences {
            rows.append([
                "generation, \(count) sequence\(count == 1 ? "" : "s") (steps)", f("gen\(count)_tok_s"),
                "llama-batched-bench S_TG", f("batched_bench\(count)_tg_tok_s"),
                f("gen\(count)_vs_batched_bench", "%.2f"), ">= 0.95", memory("gen\(count)_peak_rss_mb"),
                percent("gen\(count)_outside_decode"),
            ])
        }
        if let largest = sequences.max() {
            rows.append([
                "", "", "llama-bench tg128, stock build", f("stock_tg128_tok_s"),
                f("gen\(largest)_vs_stock_tg128", "%.2f"), largest >= 32 ? ">= 1.8" : "",
            ])
        }
        rows.append([
            "judge, \(judgeItems) items, prefix reuse (items/s)", f("judge_items_s", "%.2f"), "", "", "", "",
            memory("judge_peak_rss_mb"), percent("judge_outside_decode"),
        ])
        let name = model.info.name ?? model.info.architecture
        let types = model.info.tensorTypes.sorted { $0.value > $1.value }.map { "\($0.key) x\($0.value)" }
        return [
            "model \(name) (\(types.joined(separator: ", "))), \(threads) threads, medians of \(f("rounds", "%.0f")) rounds",
            TextTable.render(
                header: [
                    "measure", "cje-prep tok/s", "reference (this library unless said)", "tok/s", "ratio", "goal",
                    "peak RSS", "outside decode",
                ], rows: rows),
            "generation (steps): tokens drawn in the steps where every sequence draws and no context is fed, over their time with sampling, as S_TG times them (steps after some answers ended, with fewer sequences, left out: llama.cpp decodes an odd count of rows more slowly, 29 ms for 7 against 22 for 8 in llama-batched-bench here); teacher forcing: all tokens decoded, the second half of each sequence scored, as llama-perplexity does",
            stockLlamaBench == nil ? "no stock build given (--stock-llama-bench; `make bench` builds one)" : "",
        ].filter { !$0.isEmpty }.joined(separator: "\n")
    }
}
