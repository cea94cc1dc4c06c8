import CLlama
import CJEInference

/// The KV cells of context prefixes that many requests share (a rubric's instructions and worked
/// examples), computed once per engine and copied into each sequence that starts with them.
///
/// A prefix is decoded alone into an empty sequence and saved with `llama_state_seq_get_data`;
/// `llama_state_seq_set_data` puts the same bytes back into another empty sequence's stream, in
/// the same cells (0 ..< n). The rest of the context then attends to exactly the keys and values
/// a fresh decode would have written, so results are bit-identical with and without reuse (the
/// engine is batch-invariant: a token's numbers do not depend on which decode call computed the
/// cells before it). Used under the engine's lock only.
final class PrefixCache {
    /// Prefixes kept at once (least recently used dropped first).
    let capacity: Int
    private var entries: [(tokens: [TokenID], state: [UInt8])] = []
    /// Tokens decoded to fill the cache, and tokens restored from it instead of decoded.
    private(set) var computedTokens = 0
    private(set) var reusedTokens = 0

    init(capacity: Int = 4) {
        self.capacity = capacity
    }

    /// Puts `prefix`'s cells into the empty `sequence`, decoding them first if they are not
    /// cached. False when llama.cpp failed (the sequence is then cleared and should be decoded
    /// from scratch).
    func restore(_ prefix: [TokenID], into sequence: Int, context: LlamaContext) -> Bool {
        if let index = entries.firstIndex(where: { $0.tokens == prefix }) {
            let entry = entries.remove(at: index)
            entries.append(entry)
            let read = entry.state.withUnsafeBufferPointer {
                llama_state_seq_set_data(context.pointer, $0.baseAddress, $0.count, Int32(sequence))
            }
            if read == 0 {
                context.clear(sequence: sequence)
                return false
            }
            reusedTokens += prefix.count
            return true
        }
        var start = 0
        while start < prefix.count {
            context.clearBatch()
            while start < prefix.count, context.batchCount < context.batchSize {
                context.add(token: prefix[start], position: start, sequence: sequence, wantsLogits: false)
                start += 1
            }
            if context.decode() != 0 {
                context.clear(sequence: sequence)
                return false
            }
        }
        computedTokens += prefix.count
        let size = llama_state_seq_get_size(context.pointer, Int32(sequence))
        var state = [UInt8](repeating: 0, count: size)
        let written = state.withUnsafeMutableBufferPointer {
            llama_state_seq_get_data(context.pointer, $0.baseAddress, size, Int32(sequence))
        }
        if written == size {
            entries.append((prefix, state))
            if entries.count > capacity { entries.removeFirst() }
        }
        return true
    }
}
