import ArgumentParser
import CJEPrepKit
import Foundation

/// The engine's throughput beside llama.cpp's own tools, same model and threads, in one run.
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract:
            "Measure teacher forcing, generation and the judge beside llama-perplexity, llama-batched-bench and a stock llama-bench (not a test)."
    )

    @OptionGroup var modelOptions: ModelOptions

    @Option(help: "Rounds of every measurement (figures are medians, ratios taken within each round).")
    var rounds: Int = 3

    @Option(help: "Sequences decoded together in the generation sweep, comma-separated.")
    var genSequences = "1,8,32"

    @Option(help: "Context tokens per generated sequence (llama-batched-bench -npp).")
    var contextTokens: Int = 128

    @Option(help: "New tokens per generated sequence (llama-batched-bench -ntg).")
    var genTokens: Int = 128

    @Option(help: "512-token sequences to teacher-force (llama-perplexity --chunks).")
    var scoreSequences: Int = 16

    @Option(help: "Judge items (a rubric prompt and a ~200-token answer each).")
    var judgeItems: Int = 16

    @Option(
        help:
            "Where llama-batched-bench and llama-perplexity of this library are (default: $LLAMA_PREFIX/bin, then PATH)."
    )
    var llamaTools: String?

    @Option(help: "A llama-bench of a stock llama.cpp build (its default flags), for pp512 and tg128.")
    var stockLlamaBench: String?

    @Flag(help: "Print one JSON object instead of a table.")
    var json = false

    func validate() throws {
        guard rounds >= 1 else { throw ValidationError("--rounds must be at least 1") }
        guard let counts = sequences, !counts.isEmpty, counts.allSatisfy({ $0 >= 1 }) else {
            throw ValidationError("--gen-sequences must be positive numbers separated by commas, e.g. 1,8,32")
        }
        guard contextTokens >= 1, genTokens >= 1 else {
            throw ValidationError("--context-tokens and --gen-tokens must be at least 1")
        }
        guard scoreSequences >= 1, judgeItems >= 1 else {
            throw ValidationError("--score-sequences and --judge-items must be at least 1")
        }
    }

    private var sequences: [Int]? {
        let parts = genSequences.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        return parts.contains(nil) ? nil : parts.compactMap { $0 }
    }

    func run() async throws {
        var bench = EngineBenchmark(
            modelPath: modelOptions.model, threads: modelOptions.threads ?? ProcessInfo.processInfo.activeProcessorCount
        )
        bench.rounds = rounds
        bench.sequences = sequences ?? [1, 8, 32]
        bench.contextTokens = contextTokens
        bench.newTokens = genTokens
        bench.scoreSequences = scoreSequences
        bench.judgeItems = judgeItems
        bench.toolsDirectory = llamaTools
        bench.stockLlamaBench = stockLlamaBench
        bench.say = { FileHandle.standardError.write(Data("bench: \($0)\n".utf8)) }
        let model = try modelOptions.load()
        let figures = try await bench.measure(model: model)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            print(String(decoding: try encoder.encode(figures.filter { $0.value.isFinite }), as: UTF8.self))
        } else {
            print(bench.table(figures, model: model))
        }
    }
}
