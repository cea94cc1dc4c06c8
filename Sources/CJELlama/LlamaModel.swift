import CLlama
public import CJEInference
import Crypto
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
    private let chatTemplate: String?
    private let bosText: String?
    private let addBOS: Bool

    /// Loads a GGUF file. `chatTemplate` overrides (or supplies) the model's own template.
    public init(path: String, chatTemplate: String? = nil) throws {
        let url = URL(fileURLWithPath: path)
        try Self.checkGGUF(path: path)
        LlamaBackend.ensureInitialized()
        _ = LlamaBackend.takeRecentErrors()
        var params = llama_model_default_params()
        params.n_gpu_layers = 0
        // Repacked weight layouts (extra buffer types) switch kernels with the number of rows in
        // a batch; plain layouts keep one kernel per output element, which batch invariance needs.
        params.use_extra_bufts = false
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
        let ownTemplate = llama_model_chat_template(model, nil).map { String(cString: $0) }
        self.chatTemplate = chatTemplate ?? ownTemplate
        self.addBOS = llama_vocab_get_add_bos(vocab)
        let bos = llama_vocab_bos(vocab)
        self.bosText = bos >= 0 ? Self.piece(vocab: vocab, token: bos, special: true) : nil

        let nVocab = Int(llama_vocab_n_tokens(vocab))
        let eog = (0..<Int32(nVocab)).filter { llama_vocab_is_eog(vocab, $0) }
        var eot = llama_vocab_eot(vocab)
        if eot < 0 { eot = llama_vocab_eos(vocab) }
        if let template = chatTemplate ?? ownTemplate,
            let closing = Self.turnClosingToken(vocab: vocab, template: template, addBOS: addBOS)
        {
            eot = closing
        }
        let sha = try Self.sha256(of: url)
        self.info = ModelInfo(
            path: path, sha256: sha,
            architecture: Self.meta(model, "general.architecture") ?? "unknown",
            name: Self.meta(model, "general.name"),
            parameterCount: llama_model_n_params(model),
            vocabularySize: nVocab,
            contextLength: Int(llama_model_n_ctx_train(model)),
            endOfGenerationTokens: eog,
            endOfTurnToken: eot,
            hasChatTemplate: ownTemplate != nil)
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

    /// True for tokens that end generation (end of turn, end of text).
    public func isEndOfGeneration(_ token: TokenID) -> Bool {
        llama_vocab_is_eog(vocab, token)
    }

    /// Renders a conversation with the chat template, ending with the assistant header
    /// (the prompt prefix that a response continues).
    public func renderPrompt(_ messages: [ChatMessage]) throws -> String {
        try render(messages, addAssistantHeader: true)
    }

    /// Renders a conversation with the chat template; `addAssistantHeader` opens an assistant turn at the end.
    public func render(_ messages: [ChatMessage], addAssistantHeader: Bool) throws -> String {
        guard let template = chatTemplate else { throw LlamaError.noChatTemplate(path: info.path) }
        return try Self.renderTemplate(template, messages, addAssistantHeader: addAssistantHeader)
    }

    private static func renderTemplate(_ template: String, _ messages: [ChatMessage], addAssistantHeader: Bool) throws
        -> String
    {
        let roles = messages.map { strdup($0.role.rawValue)! }
        let contents = messages.map { strdup($0.content)! }
        defer {
            roles.forEach { free($0) }
            contents.forEach { free($0) }
        }
        let chat = (0..<messages.count).map { llama_chat_message(role: roles[$0], content: contents[$0]) }
        var capacity = max(256, 2 * messages.reduce(0) { $0 + $1.content.utf8.count } + 256)
        while true {
            var buffer = [CChar](repeating: 0, count: capacity)
            let n = llama_chat_apply_template(
                template, chat, chat.count, addAssistantHeader, &buffer, Int32(capacity))
            if n < 0 {
                throw LlamaError.unsupportedChatTemplate(excerpt: String(template.prefix(120)))
            }
            if Int(n) <= capacity {
                return String(decoding: buffer[0..<Int(n)].map { UInt8(bitPattern: $0) }, as: UTF8.self)
            }
            capacity = Int(n)
        }
    }

    /// Tokens of a rendered prompt prefix: special tokens parsed, BOS added when the model wants
    /// one and the template did not already write it.
    public func tokenize(prompt: String) throws -> [TokenID] {
        let wantsBOS = addBOS && !(bosText.map { !$0.isEmpty && prompt.hasPrefix($0) } ?? false)
        return try tokenize(prompt, addSpecial: wantsBOS, parseSpecial: true)
    }

    /// Tokens of a conversation's prompt prefix (`renderPrompt` then `tokenize(prompt:)`).
    public func promptTokens(_ messages: [ChatMessage]) throws -> [TokenID] {
        try tokenize(prompt: renderPrompt(messages))
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
    private static func turnClosingToken(vocab: OpaquePointer, template: String, addBOS: Bool) -> TokenID? {
        let marker = "qzxv"
        let messages: [ChatMessage] = [.user("hi"), .assistant(marker)]
        guard let text = try? renderTemplate(template, messages, addAssistantHeader: false),
            let range = text.range(of: marker),
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
        guard let handle = try? FileHandle(forReadingFrom: url) else {
            throw LlamaError.modelNotFound(path: url.path)
        }
        defer { try? handle.close() }
        var hasher = SHA256()
        while let chunk = try handle.read(upToCount: 4 << 20), !chunk.isEmpty {
            hasher.update(data: chunk)
        }
        return hasher.finalize().map { String(format: "%02x", $0) }.joined()
    }
}
