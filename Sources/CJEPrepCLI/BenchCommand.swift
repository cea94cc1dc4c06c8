import ArgumentParser
import CJEPrepKit
import Foundation

/// Throughput of the engine beside llama-bench's, same model and threads, in one run.
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure teacher-forcing and generation throughput beside llama-bench (not a test).")

    @OptionGroup var modelOptions: ModelOptions

    @Option(help: "Sequences of about 600 tokens to teacher-force.")
    var scoreSequences: Int = 16

    @Option(help: "New tokens per generated sequence.")
    var genTokens: Int = 128

    @Option(
        help: "Sequences decoded together in the generation sweep, comma-separated (aggregate tok/s and peak RSS each)."
    )
    var genSequences = "1,8,16,32,64"

    @Option(help: "Judge items (a rubric prompt and a ~200-token answer each), with and without prefix reuse.")
    var judgeItems: Int = 16

    @Option(help: "The llama-bench binary (default: $LLAMA_PREFIX/bin/llama-bench, then PATH).")
    var llamaBench: String?

    @Option(help: "A llama-bench of a stock llama.cpp build (default flags), measured in the same run for reference.")
    var stockLlamaBench: String?

    @Flag(help: "Print one JSON object instead of a table.")
    var json = false

    func run() async throws {
        var bench = EngineBenchmark(
            modelPath: modelOptions.model, threads: modelOptions.threads ?? ProcessInfo.processInfo.activeProcessorCount
        )
        bench.scoreSequences = scoreSequences
        bench.genTokens = genTokens
        bench.genSequences = genSequences
        bench.judgeItems = judgeItems
        bench.llamaBench = llamaBench
        bench.stockLlamaBench = stockLlamaBench
        let model = try modelOptions.load()
        let figures = try await bench.measure(model: model)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            print(String(decoding: try encoder.encode(figures), as: UTF8.self))
        } else {
            print(bench.table(figures, model: model))
        }
    }
}
