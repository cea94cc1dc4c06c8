import CLlama
import CJEInference

/// A llama.cpp context and one reusable batch, owned by exactly one engine.
///
/// The context is built for batch invariance: flash attention off, and one KV stream per
/// sequence (`kv_unified = false`) whose size is a multiple of 256, so every attention row of
/// a sequence sees the same cells, padding and kernel path whatever runs beside it.
final class LlamaContext {
    let pointer: OpaquePointer
    let sequences: Int
    let sequenceContext: Int
    let batchSize: Int
    let vocabularySize: Int
    private(set) var threads: Int
    private var batch: llama_batch

    init(model: LlamaModel, threads: Int, sequences: Int, sequenceContext: Int, batchSize: Int) throws {
        var params = llama_context_default_params()
        params.n_ctx = UInt32(sequences * sequenceContext)
        params.n_batch = UInt32(batchSize)
        params.n_ubatch = UInt32(batchSize)
        params.n_seq_max = UInt32(sequences)
        params.n_threads = Int32(threads)
        params.n_threads_batch = Int32(threads)
        params.flash_attn_type = LLAMA_FLASH_ATTN_TYPE_DISABLED
        params.kv_unified = false
        // Sliding-window layers get a full-size cache: a window-sized one reuses cells of tokens
        // that left the window, so a token's cells (and the order attention sums them in) would
        // depend on the sequence's history and its ubatch size.
        params.swa_full = true
        params.no_perf = true
        _ = LlamaBackend.takeRecentErrors()
        guard let ctx = llama_init_from_model(model.pointer, params) else {
            throw LlamaError.contextCreationFailed(detail: LlamaBackend.takeRecentErrors())
        }
        self.pointer = ctx
        self.sequences = sequences
        self.sequenceContext = sequenceContext
        self.batchSize = batchSize
        self.threads = threads
        self.vocabularySize = model.info.vocabularySize
        self.batch = llama_batch_init(Int32(batchSize), 0, 1)
    }

    deinit {
        llama_batch_free(batch)
        llama_free(pointer)
    }

    var batchCount: Int { Int(batch.n_tokens) }

    func clearBatch() {
        batch.n_tokens = 0
    }

    /// How many of a sequence's `remaining` tokens to feed into the batch now: all that fit, but
    /// not a piece cut short by the batch's end to fewer than `minimumPiece` tokens (then none,
    /// and the sequence goes on in the next batch). llama.cpp splits a batch of several sequences
    /// into micro-batches that hold the same number of tokens of each (one KV stream per
    /// sequence), each a pass over the weights: a sequence's last few tokens of a full batch made
    /// a pass of their own beside the next sequence's first few (a 512-token batch of 510 and 2
    /// tokens: passes of 4 and of 508 tokens). Where a batch's tokens go changes no number.
    func room(forRemaining remaining: Int) -> Int {
        let room = batchSize - batchCount
        return remaining <= room || room >= Self.minimumPiece ? min(remaining, room) : 0
    }

    static let minimumPiece = 64

    /// Adds one token of `sequence` at `position`; `wantsLogits` asks for its output row.
    func add(token: TokenID, position: Int, sequence: Int, wantsLogits: Bool) {
        let i = Int(batch.n_tokens)
        precondition(i < batchSize, "batch overflow")
        batch.token[i] = token
        batch.pos[i] = Int32(position)
        batch.n_seq_id[i] = 1
        guard let ids = batch.seq_id[i] else { preconditionFailure("llama_batch_init allocates every seq_id") }
        ids[0] = Int32(sequence)
        batch.logits[i] = wantsLogits ? 1 : 0
        batch.n_tokens += 1
    }

    /// Where the time went since the context was made (the engine adds the work around it).
    var timings = EngineTimings()

    /// Runs the batch; returns llama_decode's code (0 is success).
    func decode() -> Int32 {
        let started = EngineTimings.now()
        defer { timings.decode += EngineTimings.now() - started }
        return llama_decode(pointer, batch)
    }

    /// The logits row of batch entry `index` (which must have asked for logits). On one thread
    /// only: the first lookup after a decode puts llama.cpp's outputs back in batch order.
    func logits(at index: Int) -> UnsafeBufferPointer<Float> {
        UnsafeBufferPointer(start: llama_get_logits_ith(pointer, Int32(index)), count: vocabularySize)
    }

    /// Forgets everything cached for `sequence`.
    func clear(sequence: Int) {
        _ = llama_memory_seq_rm(llama_get_memory(pointer), Int32(sequence), -1, -1)
    }

    /// Forgets the cells of `sequence` from `position` on.
    func remove(sequence: Int, from position: Int) -> Bool {
        llama_memory_seq_rm(llama_get_memory(pointer), Int32(sequence), Int32(position), -1)
    }

    /// Forgets every sequence. The cells' bytes stay: a cell no sequence holds is masked out of
    /// attention (its weight is exactly 0), as after `clear(sequence:)`, so zeroing the whole cache
    /// (1.5 GB at 32 sequences of 2,048 tokens on SmolLM2) would change no number.
    func clearAll() {
        llama_memory_clear(llama_get_memory(pointer), false)
    }

    func setThreads(_ n: Int) {
        llama_set_n_threads(pointer, Int32(n), Int32(n))
        threads = n
    }
}
