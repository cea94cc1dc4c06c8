import Foundation

/// llama.cpp's own tools on the benchmark's model and threads: the figures `cje-prep bench`
/// compares the engine with. `llama-batched-bench` and `llama-perplexity` of the same library
/// run with the kernels the engine uses (flash attention off, ggml-cpu's tiled K-quant product
/// off); a stock `llama-bench` runs as a stock build runs.
struct ReferenceTools {
    let benchmark: EngineBenchmark
    /// The text llama-perplexity reads.
    private let textFile: URL

    init(benchmark: EngineBenchmark, text: String) {
        self.benchmark = benchmark
        textFile = FileManager.default.temporaryDirectory.appendingPathComponent(
            "cje-prep-bench-\(ProcessInfo.processInfo.processIdentifier).txt")
        try? Data(text.utf8).write(to: textFile)
    }

    func cleanUp() {
        try? FileManager.default.removeItem(at: textFile)
    }

    /// One round of every tool that is there: `batched_bench<B>_tg_tok_s` (S_TG),
    /// `perplexity_tok_s`, `stock_pp512_tok_s`, `stock_tg128_tok_s`.
    func measure() -> [String: Double] {
        var figures: [String: Double] = [:]
        if let tool = locate("llama-batched-bench") { figures.merge(batchedBench(tool)) { $1 } }
        if let tool = locate("llama-perplexity"), let rate = perplexity(tool) { figures["perplexity_tok_s"] = rate }
        if let stock = benchmark.stockLlamaBench { figures.merge(stockBench(stock)) { $1 } }
        return figures
    }

    /// The environment of the same-library tools: the engine's kernels (the tiled K-quant product
    /// off), with every weight type the library repacks repacked, as the tools do by default (the
    /// engine's own list of repacked types, `GGML_CPU_REPACK_TYPES`, is not passed on).
    private var sameKernels: [String: String] {
        var environment = ProcessInfo.processInfo.environment
        environment["GGML_CPU_TILED_MM"] = "0"
        environment["GGML_CPU_REPACK_TYPES"] = nil
        return environment
    }

    private func batchedBench(_ tool: String) -> [String: Double] {
        let largest = benchmark.sequences.max() ?? 1
        let output = Self.run(
            tool,
            [
                "-m", benchmark.modelPath, "-t", String(benchmark.threads),
                "-c", String(largest * (benchmark.contextTokens + benchmark.newTokens)), "-b", "2048", "-ub", "512",
                "-npp", String(benchmark.contextTokens), "-ntg", String(benchmark.newTokens),
                "-npl", benchmark.sequences.map(String.init).joined(separator: ","), "-fa", "off",
                "--output-format", "jsonl",
            ], environment: sameKernels)
        var figures: [String: Double] = [:]
        for line in output.split(separator: "\n") where line.hasPrefix("{") {
            guard let row = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                let count = row["pl"] as? Int, let tg = row["speed_tg"] as? Double
            else { continue }
            figures["batched_bench\(count)_tg_tok_s"] = tg
        }
        return figures
    }

    /// Tokens per second over llama-perplexity's chunks (512 tokens each, four sequences per
    /// 2,048-token batch), from its own log's timestamps around the computation.
    private func perplexity(_ tool: String) -> Double? {
        let chunks = benchmark.scoreSequences
        let output = Self.run(
            tool,
            [
                "-m", benchmark.modelPath, "-t", String(benchmark.threads), "-c", "512", "-b", "2048",
                "-f", textFile.path, "--chunks", String(chunks), "-fa", "off",
            ], environment: sameKernels)
        let lines = output.split(separator: "\n")
        guard let start = lines.first(where: { $0.contains("calculating perplexity over") }).flatMap(Self.stamp),
            let end = lines.first(where: { $0.contains("Final estimate") }).flatMap(Self.stamp), end > start
        else { return nil }
        return Double(chunks * 512) / (end - start)
    }

    /// Seconds of a llama.cpp log line's timestamp ("0.22.729.030 I ...": minutes, seconds,
    /// milliseconds, microseconds).
    static func stamp(_ line: Substring) -> Double? {
        let parts = (line.split(separator: " ").first ?? "").split(separator: ".").compactMap { Double($0) }
        guard parts.count == 4 else { return nil }
        return parts[0] * 60 + parts[1] + parts[2] / 1e3 + parts[3] / 1e6
    }

    private func stockBench(_ tool: String) -> [String: Double] {
        var environment = ProcessInfo.processInfo.environment
        environment["GGML_CPU_TILED_MM"] = nil
        environment["GGML_CPU_REPACK_TYPES"] = nil
        let output = Self.run(
            tool,
            [
                "-m", benchmark.modelPath, "-t", String(benchmark.threads), "-p", "512", "-n", "128", "-fa", "0",
                "-r", "3", "-o", "json",
            ], environment: environment, standardErrorToo: false)
        guard let rows = try? JSONSerialization.jsonObject(with: Data(output.utf8)) as? [[String: Any]] else {
            return [:]
        }
        var figures: [String: Double] = [:]
        for row in rows {
            guard let rate = row["avg_ts"] as? Double else { continue }
            figures[(row["n_prompt"] as? Int ?? 0) > 0 ? "stock_pp512_tok_s" : "stock_tg128_tok_s"] = rate
        }
        return figures
    }

    private func locate(_ name: String) -> String? {
        var directories: [String] = []
        if let toolsDirectory = benchmark.toolsDirectory { directories.append(toolsDirectory) }
        if let prefix = ProcessInfo.processInfo.environment["LLAMA_PREFIX"] { directories.append(prefix + "/bin") }
        directories += (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map(String.init)
        return directories.map { $0 + "/" + name }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// What the tool printed (its standard error too, where llama.cpp logs); empty when it could
    /// not be started or failed.
    private static func run(
        _ path: String, _ arguments: [String], environment: [String: String], standardErrorToo: Bool = true
    ) -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        process.environment = environment
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = standardErrorToo ? pipe : FileHandle.nullDevice
        do { try process.run() } catch { return "" }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return process.terminationStatus == 0 ? String(decoding: data, as: UTF8.self) : ""
    }
}
