public import CJEInference
import Foundation

/// How an engine is set up. Every field changes speed or memory, never results: the scheme is
/// batch-invariant, so thread count, sequence count and batch size leave log probs bit-identical.
public struct LlamaEngineOptions: Sendable, Hashable {
    /// CPU threads for llama.cpp.
    public var threads: Int
    /// Sequences decoded together (one KV stream each).
    public var maxSequences: Int
    /// Tokens one sequence may hold (context plus response); rounded up to a multiple of 256.
    public var sequenceContext: Int
    /// Tokens per llama_decode call.
    public var batchSize: Int
    /// The default number of sequences: 32 (generation's aggregate tokens/s still grows to 32
    /// and beyond on a CPU, see `cje-prep bench`), fewer when their KV cache would pass
    /// `kvBudget` bytes (SmolLM2-135M: 47 MB per 2048-token sequence, 1.5 GB at 32; a 3B model
    /// with 8 KV heads: 235 MB per sequence, 17 fit in 4 GiB).
    public static func automaticSequences(
        for model: LlamaModel, sequenceContext: Int, kvBudget: Int = 4 << 30, cap: Int = 32
    ) -> Int {
        let perSequence = max(1, model.kvBytesPerToken * sequenceContext)
        return max(1, min(cap, kvBudget / perSequence))
    }

    /// Keep the cells of prefixes that requests declare shared (`ContinuationRequest.sharedPrefix`)
    /// and reuse them instead of decoding them again.
    public var reusePrefixes: Bool

    public init(
        threads: Int? = nil, maxSequences: Int = 8,
        sequenceContext: Int = 2048, batchSize: Int = 512, reusePrefixes: Bool = true
    ) {
        self.threads = threads ?? ProcessInfo.processInfo.activeProcessorCount
        self.maxSequences = maxSequences
        self.sequenceContext = sequenceContext
        self.batchSize = batchSize
        self.reusePrefixes = reusePrefixes
    }
}

/// Batched generation and teacher-forced scoring on one llama.cpp context.
///
/// Determinism: a request's numbers depend only on the request and the model, not on what is
/// decoded beside it, its place in the batch, the thread count or earlier use of the context.
/// Flash attention is off and each sequence has its own KV stream, a scheme measured here to be
/// batch-invariant (with flash attention on, the CPU kernels change with batch shape). Sampling
/// and log-softmax are done in Swift, in Double, with sums in a fixed order.
///
/// The C state is touched by one thread at a time: every engine of the process runs its work on
/// one dedicated thread (`LlamaThread`), so that llama.cpp's OpenMP workers form one pool; the
/// async methods wait for it without blocking a Swift concurrency thread.
public final class LlamaEngine: @unchecked Sendable {
    /// The llama.cpp commit this package is built and tested against (scripts/bootstrap.sh pins it).
    public static let llamaCommit = "0c1e57098"

    /// The instruction sets llama.cpp's CPU backend was compiled for, as it reports them
    /// ("AVX2", "FMA", "AVX512", ...): a build's numbers depend on them, so they are part of its
    /// identity. Features that do not change a number (OpenMP) are left out, and so is repacking:
    /// the types it changes are named per model (`LlamaModels.engineIdentity`).
    public static var instructionSets: [String] {
        let notInstructions: Set = [
            "OPENMP", "REPACK", "REPACK_SELECTIVE", "LLAMAFILE", "LLAMAFILE_INVARIANT", "KLEIDIAI", "ACCELERATE",
        ]
        return LlamaBackend.systemInfo.split(separator: "|").compactMap { field -> String? in
            let parts = field.split(separator: "=").map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2, parts[1] == "1" else { return nil }
            let name = parts[0].split(separator: ":").last.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
            return name.isEmpty || notInstructions.contains(name) ? nil : name
        }
    }

    /// The engine build as a run's fingerprint keeps it: the llama.cpp commit and its instruction
    /// sets, e.g. "llama.cpp 0c1e57098 [SSE3 SSSE3 AVX AVX2 F16C FMA BMI2]". Shards built for
    /// other instruction sets give other bits, and a merge refuses them.
    public static var buildIdentity: String {
        "llama.cpp \(llamaCommit) [\(instructionSets.joined(separator: " "))]"
    }

    public let model: LlamaModel
    public let options: LlamaEngineOptions
    /// The day date-reading chat templates render (`TextEngine.promptTokens`).
    public let chatDate: ChatDate
    /// The llama.cpp context, sized to the calls so far (`sizedContext`); nil only while one
    /// is being made anew, or after making one failed.
    private var context: LlamaContext?
    private var threads: Int
    /// Where the time went, kept across the contexts this engine makes.
    private var timingsSoFar = EngineTimings()
    private let prefixes: PrefixCache?
    /// Held while the C state (the context, its sequences, the prefix cache) is used.
    private let lock = LockedValue()

    /// An engine for `model`; a model this engine cannot compute batch-invariantly is refused
    /// (`LlamaModel.checkBatchInvariant`). `chatDate` is the day its prompts are rendered for.
    public init(model: LlamaModel, options: LlamaEngineOptions = LlamaEngineOptions(), chatDate: ChatDate = .today)
        throws
    {
        try model.checkBatchInvariant()
        var options = options
        guard options.threads >= 1 else { throw LlamaError.invalidOptions("threads must be at least 1") }
        guard EngineLimits.sequences.contains(options.maxSequences) else {
            throw LlamaError.invalidOptions(
                "maxSequences must be between \(EngineLimits.sequences.lowerBound) and \(EngineLimits.sequences.upperBound)"
            )
        }
        guard options.batchSize >= options.maxSequences else {
            throw LlamaError.invalidOptions("batchSize must be at least maxSequences")
        }
        guard options.sequenceContext >= EngineLimits.minimumSequenceContext else {
            throw LlamaError.invalidOptions("sequenceContext must be at least \(EngineLimits.minimumSequenceContext)")
        }
        let unit = EngineLimits.sequenceContextGranularity
        options.sequenceContext = min(
            (options.sequenceContext + unit - 1) / unit * unit, max(unit, model.info.contextLength / unit * unit))
        // A stock llamafile build (not this package's patch, which renames the feature
        // LLAMAFILE_INVARIANT) takes another kernel for products of two or more rows than for one.
        if LlamaBackend.systemInfo.contains("LLAMAFILE = 1") {
            throw LlamaError.notBatchInvariant(
                detail: "it uses llamafile's sgemm, whose kernel changes with the number of rows in a batch")
        }
        self.model = model
        self.options = options
        self.chatDate = chatDate
        self.prefixes = options.reusePrefixes ? PrefixCache() : nil
        self.threads = options.threads
        // A small context now, so that a model llama.cpp cannot make one for fails here; the
        // calls grow it to what they need.
        self.context = try LlamaContext(
            model: model, threads: options.threads, sequences: 1, sequenceContext: unit, batchSize: options.batchSize)
    }

    /// The context for a call of `count` requests whose longest one needs `longest` tokens:
    /// the current one when it holds that many sequences of that length, else a larger one made
    /// anew (the old one freed first). It grows only, to at most `options.maxSequences` sequences
    /// of `options.sequenceContext` tokens, so a run holds the KV cache its calls need rather
    /// than the most the options allow (SmolLM2-135M: 23 KB per token, 1.5 GB at 32 sequences of
    /// 2,048). Its size changes no number: every sequence has its own stream, a multiple of 256
    /// cells long, and attention reads the cells in use, padded to 256, whatever the stream's size.
    private func sizedContext(requests count: Int, longest: Int) -> Result<LlamaContext, LlamaError> {
        let unit = EngineLimits.sequenceContextGranularity
        let sequences = min(options.maxSequences, max(1, count))
        let tokens = min(options.sequenceContext, max(unit, (longest + unit - 1) / unit * unit))
        let current = (sequences: context?.sequences ?? 0, tokens: context?.sequenceContext ?? 0)
        if let context, current.sequences >= sequences, current.tokens >= tokens { return .success(context) }
        // Longer calls double the length, so that a run makes a few contexts, not one per length.
        let length =
            tokens > current.tokens ? min(options.sequenceContext, max(tokens, 2 * current.tokens)) : current.tokens
        if let context { timingsSoFar = context.timings }
        context = nil
        do {
            let made = try LlamaContext(
                model: model, threads: threads, sequences: max(current.sequences, sequences), sequenceContext: length,
                batchSize: options.batchSize)
            made.timings = timingsSoFar
            context = made
            return .success(made)
        } catch let error as LlamaError {
            return .failure(error)
        } catch {
            return .failure(.contextCreationFailed(detail: "\(error)"))
        }
    }

    /// Tokens a single sequence may hold.
    public var sequenceContext: Int { options.sequenceContext }

    /// Scores every request; results are in request order, each a value or that request's error.
    public func score(_ requests: [ScoreRequest], control: BatchControl<ScoreResult> = .none) async -> [Result<
        ScoreResult, LlamaError
    >] {
        await withCheckedContinuation { continuation in
            LlamaThread.shared.submit { continuation.resume(returning: self.scoreNow(requests, control: control)) }
        }
    }

    /// Generates for every request; results are in request order, each a value or that request's error.
    public func generate(
        _ requests: [GenerationRequest], control: BatchControl<GenerationResult> = .none
    ) async -> [Result<GenerationResult, LlamaError>] {
        await withCheckedContinuation { continuation in
            LlamaThread.shared.submit {
                continuation.resume(returning: self.generateNow(requests, control: control))
            }
        }
    }

    /// `score` on the calling thread.
    public func scoreNow(_ requests: [ScoreRequest], control: BatchControl<ScoreResult> = .none) -> [Result<
        ScoreResult, LlamaError
    >] {
        run(requests.count, requests.map(\.tokensNeeded), control) { context in
            Scorer(context: context, model: model, limit: options.sequenceContext).run(requests, control: control)
        }
    }

    /// `generate` on the calling thread.
    public func generateNow(_ requests: [GenerationRequest], control: BatchControl<GenerationResult> = .none)
        -> [Result<GenerationResult, LlamaError>]
    {
        run(requests.count, requests.map(\.tokensNeeded), control) { context in
            Generator(context: context, model: model, limit: options.sequenceContext).run(requests, control: control)
        }
    }

    /// For each request, the log probability of every continuation after its shared context: the
    /// context is decoded once, then each continuation in turn (its cells are dropped after it).
    /// Values are bit-identical to scoring context + continuation as one sequence, and a greedy
    /// answer is identical to `generateNow` at temperature 0.
    public func scoreContinuationsNow(
        _ requests: [ContinuationRequest], control: BatchControl<ContinuationResult> = .none
    ) -> [Result<ContinuationResult, LlamaError>] {
        run(requests.count, requests.map(\.tokensNeeded), control) { context in
            ContinuationScorer(context: context, model: model, limit: options.sequenceContext, prefixes: prefixes)
                .run(requests, control: control)
        }
    }

    /// `scoreContinuationsNow` off the caller's thread.
    public func scoreContinuations(
        _ requests: [ContinuationRequest], control: BatchControl<ContinuationResult> = .none
    ) async -> [Result<ContinuationResult, LlamaError>] {
        await withCheckedContinuation { continuation in
            LlamaThread.shared.submit {
                continuation.resume(returning: self.scoreContinuationsNow(requests, control: control))
            }
        }
    }

    /// Prefix tokens decoded to fill the prefix cache, and prefix tokens reused from it instead
    /// of decoded (both 0 when reuse is off).
    public var prefixTokens: (computed: Int, reused: Int) {
        lock.withLock { (prefixes?.computedTokens ?? 0, prefixes?.reusedTokens ?? 0) }
    }

    /// Runs `body` on the llama thread, with this engine's C state to itself, on a context that
    /// holds `count` sequences of the longest of `lengths` that fits the options; when no such
    /// context can be made, every request fails with that error.
    private func run<Value>(
        _ count: Int, _ lengths: [Int], _ control: BatchControl<Value>,
        _ body: (LlamaContext) -> [Result<Value, LlamaError>]
    ) -> [Result<Value, LlamaError>] {
        LlamaThread.shared.run {
            lock.withLock {
                let started = EngineTimings.now()
                switch sizedContext(
                    requests: count, longest: lengths.filter { $0 <= options.sequenceContext }.max() ?? 0)
                {
                case .success(let context):
                    defer { context.timings.work += EngineTimings.now() - started }
                    return body(context)
                case .failure(let error):
                    let results = [Result<Value, LlamaError>](repeating: .failure(error), count: count)
                    control.tell(results.map { Optional($0) })
                    return results
                }
            }
        }
    }

    /// Makes the context hold `sequences` sequences of `tokens` tokens now (within the options),
    /// instead of at the first call that needs them: memory is then taken up front, and a timed
    /// call does not include making it.
    public func reserve(sequences: Int, tokens: Int) throws {
        _ = try LlamaThread.shared.run {
            lock.withLock { sizedContext(requests: sequences, longest: tokens) }
        }.get()
    }

    /// The sequences and tokens per sequence the engine's KV cache holds now (it grows with the
    /// calls, see `reserve`; (0, 0) after a context could not be made).
    public var capacity: (sequences: Int, tokens: Int) {
        lock.withLock { (context?.sequences ?? 0, context?.sequenceContext ?? 0) }
    }

    /// Where this engine's time went so far (`cje-prep bench` reads it around what it measures).
    public var timings: EngineTimings {
        lock.withLock { context?.timings ?? timingsSoFar }
    }

    /// Changes the thread count for later calls (results do not change).
    public func setThreads(_ n: Int) {
        lock.withLock {
            threads = max(1, n)
            context?.setThreads(threads)
        }
    }
}
