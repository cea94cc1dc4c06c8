import CLlama
import Foundation

/// Which models this engine computes batch-invariantly on CPU, and why the others not.
///
/// llama.cpp's CPU backend computes each output element of a matrix product as one `vec_dot` in a
/// fixed order, unless a faster path groups rows: llamafile's tinyBLAS (kept by our patch to the
/// Q8_0, Q4_0 and Q5_0 products where it computes the same floats as vec_dot,
/// `scripts/llama-patches`), repacked weight layouts (on only for `repackedTypes`, through the
/// `repack-selective` patch; off for every other type) and the tiled K-quant product (off:
/// `GGML_CPU_TILED_MM=0`, see `LlamaBackend`). What is left is checked per tensor type by the
/// model matrix (`Tests/Integration/model-matrix.sh`): generation at 1 to 9 and 32 sequences,
/// sampled against teacher-forced log probs, one request alone against in a batch, for each type below.
enum BatchInvariance {
    /// Tensor types whose CPU kernels the model matrix verified on this build.
    static let verifiedTypes: Set<String> = [
        "F32", "F16", "BF16", "Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K",
        "IQ4_NL", "IQ4_XS",
    ]

    /// Tensor types whose repacked layout (llama.cpp's CPU_REPACK, 8x8 on x86-64-v3) the model
    /// matrix proved batch-invariant: its one-row gemv and four-row gemm give every output the same
    /// float (per 32-value block an exact integer dot, one FMA of it times the two scales, blocks in
    /// ascending order). Q4_K is not here: its gemv takes one FMA per 256-value super-block and its
    /// gemm one per 64 values, so a row's numbers depend on whether it fell in a group of four.
    static let provenRepackedTypes = ["IQ4_NL", "Q4_0"]

    /// The types this build repacks: `provenRepackedTypes` when llama.cpp honours the list
    /// (`REPACK_SELECTIVE`, scripts/llama-patches/repack-selective.patch) and was compiled for
    /// the instruction sets the matrix proved them on (x86-64 with AVX2 and FMA, no AVX-512, whose
    /// gemm has other kernels); none elsewhere, where every type keeps the plain layout.
    static func repackedTypes(systemInfo: String) -> [String] {
        #if arch(x86_64)
            let has = { (feature: String) in systemInfo.contains("\(feature) = 1") }
            guard has("REPACK_SELECTIVE"), has("AVX2"), has("FMA"), !has("AVX512") else { return [] }
            return provenRepackedTypes
        #else
            return []
        #endif
    }

    /// How many tensors of each type the file holds, and the first tensor of each type, read
    /// from the GGUF header (no weights are read).
    static func tensorTypes(path: String) -> (counts: [String: Int], example: [String: String]) {
        let params = gguf_init_params(no_alloc: true, ctx: nil)
        guard let gguf = gguf_init_from_file(path, params) else { return ([:], [:]) }
        defer { gguf_free(gguf) }
        var counts: [String: Int] = [:]
        var example: [String: String] = [:]
        for i in 0..<gguf_get_n_tensors(gguf) {
            let type = String(cString: ggml_type_name(gguf_get_tensor_type(gguf, i))).uppercased()
            counts[type, default: 0] += 1
            if example[type] == nil { example[type] = String(cString: gguf_get_tensor_name(gguf, i)) }
        }
        return (counts, example)
    }

    /// The model's memory kind, as `ModelInfo.memory` names it.
    static func memory(_ model: OpaquePointer) -> String {
        if llama_model_is_hybrid(model) { return "hybrid" }
        if llama_model_is_recurrent(model) { return "recurrent" }
        let window = llama_model_n_swa(model)
        return window > 0 ? "sliding window (\(window) tokens) and full" : "full"
    }

    /// Why the model cannot run batch-invariantly here, with what to do; nil when it can.
    static func problem(
        _ model: OpaquePointer, architecture: String, types: (counts: [String: Int], example: [String: String])
    ) -> String? {
        if llama_model_is_recurrent(model) || llama_model_is_hybrid(model) {
            return
                "its architecture '\(architecture)' keeps a recurrent state, which cje-prep does not support: scoring several answers after one shared context drops a sequence's last cells, which a recurrent state cannot. Use a transformer model (attention only)"
        }
        if llama_model_has_encoder(model) || llama_model_is_diffusion(model) {
            return
                "its architecture '\(architecture)' is not a decoder-only language model; cje-prep generates and teacher-forces with decoder-only models"
        }
        for type in types.counts.keys.sorted() where !verifiedTypes.contains(type) {
            let tensor = types.example[type].map { " (tensor '\($0)' and \((types.counts[type] ?? 1) - 1) more)" } ?? ""
            return
                "it holds \(type) tensors\(tensor), whose CPU kernels cje-prep has not verified batch-invariant (verified: \(verifiedTypes.sorted().joined(separator: ", "))). Use a file in one of these quantizations (e.g. Q4_K_M, Q6_K, Q8_0), or re-quantize it with llama-quantize from the same llama.cpp: `llama-quantize --allow-requantize IN.gguf OUT.gguf Q4_K_M`"
        }
        return nil
    }
}
