import CLlama
public import CJEInference
import Foundation

/// A GGUF model loaded by llama.cpp: its description, chat template and tokenizer.
///
/// Read-only after loading; tokenization in llama.cpp is thread-safe, so one model can serve
/// several engines.
public final class LlamaModel: @unchecked Sendable {
    /// What the model says about itself.
    public let info: ModelInfo
    let pointer: OpaquePointer
    let vocab: OpaquePointer
    private let renderer: ChatRenderer?
    private let bosText: String?
    private let addBOS: Bool

    /// Loads a GGUF file. `chatTemplate` (from a config) overrides or supplies the model's own
    /// template: a Jinja source, or the name of one of llama.cpp's built-in templates.
    public init(path: String, chatTemplate: String? = nil) throws {
        let url = URL(fileURLWithPath: path)
        try Self.checkGGUF(path: path)
        LlamaBackend.ensureInitialized()
        _ = LlamaBackend.takeRecentErrors()
        var params = llama_model_default_params()
        params.n_gpu_layers = 0
        // Repacked weight layouts (extra buffer types) switch kernels with the number of rows in
        // a batch: one-row gemv, four-row gemm. Only for the types whose two kernels are proven to
        // give the same floats (`BatchInvariance.repackedTypes`, the only ones llama.cpp is let
        // repack) are they on; a model without such tensors keeps every weight in the plain layout.
        let types = BatchInvariance.tensorTypes(path: path)
        let repacked = LlamaBackend.repackedTypes.filter { types.counts[$0] != nil }
        params.use_extra_bufts = !repacked.isEmpty
        guard let model = llama_model_load_from_file(path, params) else {
            let detail = LlamaBackend.takeRecentErrors()
            throw LlamaError.modelLoadFailed(path: path, detail: detail.isEmpty ? "no detail given" : detail)
        }
        guard let vocab = llama_model_get_vocab(model) else {
            llama_model_free(model)
            throw LlamaError.modelLoadFailed(path: path, detail: "the model has no vocabulary")
        }
        self.pointer = model
        self.vocab = vocab
        self.addBOS = llama_vocab_get_add_bos(vocab)
        let bos = llama_vocab_bos(vocab)
        self.bosText = bos >= 0 ? Self.piece(vocab: vocab, token: bos, special: true) : nil
        let eos = llama_vocab_eos(vocab)
        let ownTemplate = llama_model_chat_template(model, nil).map { String(cString: $0) }
        // As llama-server: the vocabulary's BOS and EOS as text are the template's bos_token and eos_token.
        if let source = chatTemplate ?? ownTemplate {
            self.renderer = try ChatRenderer(
                source: source, origin: chatTemplate == nil ? .model : .config, bos: bosText ?? "",
                eos: eos >= 0 ? Self.piece(vocab: vocab, token: eos, special: true) : "", model: path)
        } else {
            self.renderer = nil
        }

        let nVocab = Int(llama_vocab_n_tokens(vocab))
        let eog = (0..<Int32(nVocab)).filter { llama_vocab_is_eog(vocab, $0) }
        var eot = llama_vocab_eot(vocab)
        if eot < 0 { eot = eos }
        if let renderer, let closing = try Self.turnClosingToken(vocab: vocab, renderer: renderer) {
            eot = closing
        }
        let sha = try Self.sha256(of: url)
        let architecture = Self.meta(model, "general.architecture") ?? "unknown"
        self.info = ModelInfo(
            path: path, sha256: sha,
            architecture: architecture,
            name: Self.meta(model, "general.name"),
            parameterCount: llama_model_n_params(model),
            vocabularySize: nVocab,
            contextLength: Int(llama_model_n_ctx_train(model)),
            endOfGenerationTokens: eog,
            endOfTurnToken: eot,
            hasChatTemplate: ownTemplate != nil,
            chatTemplate: renderer?.info,
            tensorTypes: types.counts,
            repackedTypes: repacked.isEmpty ? nil : repacked,
            memory: BatchInvariance.memory(model),
            notBatchInvariant: BatchInvariance.problem(model, architecture: architecture, types: types))
    }

    deinit {
        llama_model_free(pointer)
    }

    /// Bytes one token's keys and values take in the KV cache (f16, every layer).
    public var kvBytesPerToken: Int {
        let heads = max(1, Int(llama_model_n_head(pointer)))
        let perHead = Int(llama_model_n_embd(pointer)) / heads
        return 2 * Int(llama_model_n_layer(pointer)) * Int(llama_model_n_head_kv(pointer)) * perHead * 2
    }

    /// Tokens a sliding-window layer attends over (0: no such layers).
    public var slidingWindow: Int { Int(llama_model_n_swa(pointer)) }

    /// True for tokens that end generation (end of turn, end of text).
    public func isEndOfGeneration(_ token: TokenID) -> Bool {
        llama_vocab_is_eog(vocab, token)
    }

    /// Renders a conversation with the chat template, ending with the assistant header
    /// (the prompt prefix that a response continues). `date` is the day templates that read
    /// the date (`strftime_now`) see; a run passes its own fixed day.
    public func renderPrompt(_ messages: [ChatMessage], date: ChatDate = .today) throws -> String {
        try render(messages, addAssistantHeader: true, date: date)
    }

    /// Renders a conversation with the chat template; `addAssistantHeader` opens an assistant turn at the end.
    public func render(_ messages: [ChatMessage], addAssistantHeader: Bool, date: ChatDate = .today) throws -> String {
        guard let renderer else { throw LlamaError.noChatTemplate(path: info.path) }
        return try renderer.render(messages, addAssistantHeader: addAssistantHeader, date: date)
    }

    /// Refuses a model this engine cannot compute batch-invariantly (a recurrent state, tensor
    /// types whose kernels are not verified), naming what and what to do.
    public func checkBatchInvariant() throws {
        if let reason = info.notBatchInvariant {
            throw LlamaError.modelNotBatchInvariant(path: info.path, reason: reason)
        }
    }

    /// Tokens of a rendered prompt prefix: special tokens parsed, BOS added when the model wants
    /// one and the template did not already write it.
    public func tokenize(prompt: String) throws -> [TokenID] {
        let wantsBOS = addBOS && !(bosText.map { !$0.isEmpty && prompt.hasPrefix($0) } ?? false)
        return try tokenize(prompt, addSpecial: wantsBOS, parseSpecial: true)
    }

    /// Tokens of a conversation's prompt prefix (`renderPrompt` then `tokenize(prompt:)`).
    public func promptTokens(_ messages: [ChatMessage], date: ChatDate = .today) throws -> [TokenID] {
        try tokenize(prompt: renderPrompt(messages, date: date))
    }

    /// Tokens of a response: plain text, special-token text is not parsed, no BOS.
    /// Tokenized on its own so that no response text merges into prompt tokens.
    public func tokenize(response: String) throws -> [TokenID] {
        try tokenize(response, addSpecial: false, parseSpecial: false)
    }

    /// Text of tokens, with multi-byte characters split across tokens joined (bytes are decoded once, at the end).
    public func detokenize(_ tokens: [TokenID]) -> String {
        var bytes: [UInt8] = []
        for token in tokens {
            bytes.append(contentsOf: Self.pieceBytes(vocab: vocab, token: token, special: false))
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Bytes of one token's text.
    func pieceBytes(_ token: TokenID) -> [UInt8] {
        Self.pieceBytes(vocab: vocab, token: token, special: false)
    }

    private func tokenize(_ text: String, addSpecial: Bool, parseSpecial: Bool) throws -> [TokenID] {
        try Self.tokenize(vocab: vocab, text, addSpecial: addSpecial, parseSpecial: parseSpecial)
    }

    private static func tokenize(vocab: OpaquePointer, _ text: String, addSpecial: Bool, parseSpecial: Bool) throws
        -> [TokenID]
    {
        let utf8 = Array(text.utf8)
        guard utf8.count < Int(Int32.max) else { throw LlamaError.tokenizationFailed(detail: "text too long") }
        var capacity = utf8.count + 8
        while true {
            var tokens = [llama_token](repeating: 0, count: capacity)
            let n = utf8.withUnsafeBufferPointer { buf in
                buf.withMemoryRebound(to: CChar.self) { chars in
                    llama_tokenize(
                        vocab, chars.baseAddress, Int32(utf8.count), &tokens, Int32(capacity), addSpecial,
                        parseSpecial)
                }
            }
            if n == Int32.min { throw LlamaError.tokenizationFailed(detail: "token count overflows") }
            if n >= 0 { return Array(tokens[0..<Int(n)]) }
            capacity = Int(-n)
        }
    }

    private static func pieceBytes(vocab: OpaquePointer, token: TokenID, special: Bool) -> [UInt8] {
        var buffer = [CChar](repeating: 0, count: 32)
        var n = llama_token_to_piece(vocab, token, &buffer, Int32(buffer.count), 0, special)
        if n < 0 {
            buffer = [CChar](repeating: 0, count: Int(-n))
            n = llama_token_to_piece(vocab, token, &buffer, Int32(buffer.count), 0, special)
        }
        return n > 0 ? buffer[0..<Int(n)].map { UInt8(bitPattern: $0) } : []
    }

    private static func piece(vocab: OpaquePointer, token: TokenID, special: Bool) -> String {
        String(decoding: pieceBytes(vocab: vocab, token: token, special: special), as: UTF8.self)
    }

    /// The end-of-generation token that the chat template writes after an assistant message:
    /// the token a naturally finished response ends with (`<|im_end|>` for ChatML, where the
    /// vocabulary's own end-of-turn id may name `<|endoftext|>` instead).
    private static func turnClosingToken(vocab: OpaquePointer, renderer: ChatRenderer) throws -> TokenID? {
        let marker = "qzxv"
        let messages: [ChatMessage] = [.user("hi"), .assistant(marker)]
        let text: String
        do {
            text = try renderer.render(messages, addAssistantHeader: false, date: .today)
        } catch {
            // A template over the render bound is refused now, at load, before anything is written.
            if let limit = error as? LlamaError, case .chatTemplateLimit = limit { throw limit }
            return nil
        }
        guard let range = text.range(of: marker, options: .backwards),
            let tokens = try? tokenize(
                vocab: vocab, String(text[range.upperBound...]), addSpecial: false, parseSpecial: true)
        else { return nil }
        return tokens.first { llama_vocab_is_eog(vocab, $0) }
    }

    private static func meta(_ model: OpaquePointer, _ key: String) -> String? {
        var buffer = [CChar](repeating: 0, count: 512)
        let n = llama_model_meta_val_str(model, key, &buffer, buffer.count)
        guard n >= 0 else { return nil }
        return String(decoding: buffer.prefix(Int(n)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Rejects a missing, short or non-GGUF file before llama.cpp sees it.
    private static func checkGGUF(path: String) throws {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw LlamaError.modelNotFound(path: path) }
        defer { try? handle.close() }
        let head = (try? handle.read(upToCount: 8)) ?? Data()
        guard head.count == 8 else {
            throw LlamaError.notGGUF(path: path, detail: "only \(head.count) bytes long")
        }
        guard head.prefix(4) == Data("GGUF".utf8) else {
            throw LlamaError.notGGUF(path: path, detail: "it does not start with the GGUF magic bytes")
        }
    }

    /// sha256 of a file, read in 4 MiB chunks.
    static func sha256(of url: URL) throws -> String {
        guard FileManager.default.isReadableFile(atPath: url.path) else {
            throw LlamaError.modelNotFound(path: url.path)
        }
        return try Checksum.sha256(of: url)
    }
}
