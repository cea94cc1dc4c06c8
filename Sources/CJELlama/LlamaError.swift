public import CJEInference
public import Foundation

/// Everything that can go wrong in the llama.cpp engine, with the context a person needs to act on it.
public enum LlamaError: LocalizedError, ClassifiedError, Sendable, Hashable {
    /// The model file does not exist or cannot be read.
    case modelNotFound(path: String)
    /// The file is not a GGUF file (wrong magic bytes) or is too short to be one.
    case notGGUF(path: String, detail: String)
    /// llama.cpp refused to load the file (truncated, corrupt, unsupported architecture).
    case modelLoadFailed(path: String, detail: String)
    /// llama.cpp could not create an inference context.
    case contextCreationFailed(detail: String)
    /// The model has no chat template and none was configured.
    case noChatTemplate(path: String)
    /// llama.cpp does not know the chat template (it would otherwise fall back silently).
    case unsupportedChatTemplate(excerpt: String)
    /// Text could not be tokenized.
    case tokenizationFailed(detail: String)
    /// A request is malformed (empty response, bad temperature, ...).
    case invalidRequest(index: Int, reason: String)
    /// A request does not fit the per-sequence context.
    case tooLong(index: Int, tokens: Int, limit: Int)
    /// llama_decode returned a failure code.
    case decodeFailed(code: Int32)
    /// The chat template failed on a conversation (it raised an error, or cannot render it).
    case chatTemplateFailed(detail: String)
    /// The chat template ran past the bound on one render (`ChatRenderer.limits`): a template is
    /// code from the model file, and one that loops for ever would hang the run.
    case chatTemplateLimit(model: String?, sha256: String, detail: String)
    /// The llama.cpp library was built in a way that breaks batch invariance.
    case notBatchInvariant(detail: String)
    /// The model cannot be computed batch-invariantly by this engine (see `BatchInvariance`).
    case modelNotBatchInvariant(path: String, reason: String)
    /// The engine was configured with impossible options.
    case invalidOptions(String)
    /// The request was abandoned: its batch was asked to stop.
    case stopped

    public var errorDescription: String? {
        switch self {
        case .modelNotFound(let path):
            return
                "model file not found or unreadable: \(path). Check the path (run `make demo` once to fetch the demo model)."
        case .notGGUF(let path, let detail):
            return "\(path) is not a GGUF model file (\(detail))."
        case .modelLoadFailed(let path, let detail):
            return "llama.cpp could not load \(path): \(detail). The file may be truncated or of an unsupported kind."
        case .contextCreationFailed(let detail):
            return "llama.cpp could not create a context: \(detail). Try fewer parallel sequences or a shorter context."
        case .noChatTemplate(let path):
            return
                "\(path) has no chat template and none is configured; refusing to guess one (set a chat template in the config)."
        case .unsupportedChatTemplate(let excerpt):
            return "llama.cpp does not support this chat template: \(excerpt)"
        case .tokenizationFailed(let detail):
            return "tokenization failed: \(detail)"
        case .invalidRequest(let index, let reason):
            return "request \(index): \(reason)"
        case .tooLong(let index, let tokens, let limit):
            return
                "request \(index): needs \(tokens) tokens but a sequence holds at most \(limit); shorten the prompt or lower max tokens, or raise the sequence context."
        case .decodeFailed(let code):
            return "llama_decode failed with code \(code)."
        case .chatTemplateFailed(let detail):
            return "the chat template failed: \(detail)"
        case .chatTemplateLimit(let model, let sha256, let detail):
            return
                "the chat template\(model.map { " of \($0)" } ?? "") (sha256 \(sha256)) did not finish a render: \(detail). A chat template is code from the model file, so cje-prep bounds each render; this one loops too long or builds too much text. Give the model a template that renders in bounds (`chat_template` in the config: a Jinja source or a llama.cpp built-in name)."
        case .modelNotBatchInvariant(let path, let reason):
            return
                "\(path) cannot give batch-invariant log probs on this engine, so its data set would fail the determinism audit: \(reason)."
        case .notBatchInvariant(let detail):
            return
                "this llama.cpp build cannot give batch-invariant log probs: \(detail). Use the build from scripts/bootstrap.sh (llamafile off, or patched by scripts/llama-patches/sgemm-invariant.patch)."
        case .invalidOptions(let reason):
            return "invalid engine options: \(reason)"
        case .stopped:
            return "abandoned: the batch was asked to stop"
        }
    }

    /// A request too long for a sequence, or a conversation the chat template cannot render,
    /// fails the same way every time (`.permanent`: never retried); the rest may not.
    public var failureKind: FailureKind {
        switch self {
        case .tooLong, .chatTemplateFailed: return .permanent
        case .chatTemplateLimit: return .fatal
        default: return .transient
        }
    }
}
