import CLlama
public import CJEInference
import Foundation

/// Renders conversations with a model's chat template: its own Jinja source through llama.cpp's
/// Jinja engine (as llama-server and transformers' `apply_chat_template` render it), or one of
/// llama.cpp's built-in approximations when a config names one.
///
/// Immutable after init; rendering is serialised (a lock) because the parsed template is shared.
final class ChatRenderer: @unchecked Sendable {
    let info: ChatTemplateInfo
    private let template: Template
    private let lock = LockedValue()

    private enum Template {
        case jinja(OpaquePointer)
        case builtin(String)
    }

    /// llama.cpp's built-in template names ("chatml", "llama3", "gemma", ...).
    static let builtinNames: [String] = {
        var names = [UnsafePointer<CChar>?](repeating: nil, count: 256)
        let n = Int(llama_chat_builtin_templates(&names, names.count))
        return names.prefix(min(n, names.count)).compactMap { $0.map { String(cString: $0) } }
    }()

    /// The bound on one parse or render of a Jinja template: statements and expressions executed,
    /// and seconds. Real templates take thousands of steps for a conversation; the bound is for
    /// one that loops (tens of millions of times) or builds megabytes of text, which would hang a
    /// run at its first render. Steps are the bound that decides on every machine alike.
    /// A render's text may also be at most `extraBytes` longer than its messages' contents.
    static let limits = (steps: UInt64(1_000_000), seconds: 10.0, extraBytes: 1 << 20)
    private static let limitsSet: Bool = {
        cje_chat_set_limits(limits.steps, limits.seconds)
        return true
    }()

    /// The model file whose template this is (named in a render-limit error), when there is one.
    private let model: String?

    /// `source` is Jinja, or (from a config) a built-in template's name; `bos` and `eos` are the
    /// vocabulary's tokens as text, which Jinja templates read as `bos_token` and `eos_token`.
    init(source: String, origin: ChatTemplateInfo.Origin, bos: String, eos: String, model: String? = nil) throws {
        _ = Self.limitsSet
        self.model = model
        let digest = Checksum.sha256(Data(source.utf8))
        if origin == .config, Self.builtinNames.contains(source) {
            template = .builtin(source)
            info = ChatTemplateInfo(
                origin: origin, renderer: .builtin, name: source, sha256: digest, readsDate: false, acceptsSystem: true)
            return
        }
        if origin == .config, !source.contains("{{"), !source.contains("{%") {
            throw LlamaError.unsupportedChatTemplate(
                excerpt:
                    "'\(source.prefix(80))' is neither a Jinja template nor one of llama.cpp's built-in names (\(Self.builtinNames.joined(separator: ", ")))"
            )
        }
        var error: UnsafeMutablePointer<CChar>?
        guard let parsed = cje_chat_template_new(source, bos, eos, &error) else {
            let detail = error.map { String(cString: $0) } ?? "unknown error"
            cje_chat_free(error)
            if let limit = Self.limitError(detail, model: model, sha256: digest) { throw limit }
            throw LlamaError.unsupportedChatTemplate(
                excerpt: "llama.cpp's Jinja engine cannot parse it (\(detail)): \(source.prefix(120))")
        }
        template = .jinja(parsed)
        info = ChatTemplateInfo(
            origin: origin, renderer: .jinja, name: nil, sha256: digest,
            readsDate: source.contains("strftime_now"),
            acceptsSystem: cje_chat_template_supports_system_role(parsed))
    }

    deinit {
        if case .jinja(let parsed) = template { cje_chat_template_free(parsed) }
    }

    /// The conversation as text; `addAssistantHeader` opens an assistant turn at the end. A
    /// template that refuses system messages gets the system message before the first user
    /// message, separated by a newline (what llama-server does).
    func render(_ messages: [ChatMessage], addAssistantHeader: Bool, date: ChatDate) throws -> String {
        var messages = messages
        if !info.acceptsSystem, messages.first?.role == .system {
            let system = messages.removeFirst()
            if !messages.isEmpty {
                messages[0] = ChatMessage(role: messages[0].role, content: system.content + "\n" + messages[0].content)
            }
        }
        return try lock.withLock {
            switch template {
            case .builtin(let name):
                return try Self.renderBuiltin(name, messages, addAssistantHeader: addAssistantHeader)
            case .jinja(let parsed):
                do {
                    let text = try Self.renderJinja(
                        parsed, messages, addAssistantHeader: addAssistantHeader, date: date)
                    let given = messages.reduce(0) { $0 + $1.content.utf8.count }
                    guard text.utf8.count <= given + Self.limits.extraBytes else {
                        throw LlamaError.chatTemplateLimit(
                            model: model, sha256: info.sha256,
                            detail:
                                "it rendered \(text.utf8.count) bytes for \(given) bytes of messages (bound: theirs plus \(Self.limits.extraBytes))"
                        )
                    }
                    return text
                } catch LlamaError.chatTemplateFailed(let detail) {
                    throw Self.limitError(detail, model: model, sha256: info.sha256)
                        ?? LlamaError.chatTemplateFailed(detail: detail)
                }
            }
        }
    }

    private static func renderJinja(
        _ parsed: OpaquePointer, _ messages: [ChatMessage], addAssistantHeader: Bool, date: ChatDate
    ) throws -> String {
        let (roles, contents) = CStrings.of(messages)
        defer { CStrings.free(roles, contents) }
        var roleArgs = roles.map { UnsafePointer($0) }
        var contentArgs = contents.map { UnsafePointer($0) }
        var length = 0
        var error: UnsafeMutablePointer<CChar>?
        guard
            let text = cje_chat_template_render(
                parsed, &roleArgs, &contentArgs, messages.count, addAssistantHeader, date.seconds, &length, &error)
        else {
            let detail = error.map { String(cString: $0) } ?? "unknown error"
            cje_chat_free(error)
            throw LlamaError.chatTemplateFailed(detail: Self.lastLine(detail))
        }
        defer { cje_chat_free(text) }
        return String(decoding: UnsafeRawBufferPointer(start: text, count: length), as: UTF8.self)
    }

    /// libcje-chat's render-limit error (its message has the marker "render limit: ") as the
    /// error naming the model and the template; nil for every other error.
    private static func limitError(_ detail: String, model: String?, sha256: String) -> LlamaError? {
        guard let range = detail.range(of: "render limit: ") else { return nil }
        let what = String(detail[range.upperBound...]).trimmingCharacters(in: .whitespacesAndNewlines)
        return .chatTemplateLimit(model: model, sha256: sha256, detail: what)
    }

    /// llama.cpp's Jinja errors end with the template's own message ("Error: Jinja Exception:
    /// System role not supported") after a source excerpt.
    private static func lastLine(_ detail: String) -> String {
        let lines = detail.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        return lines.last(where: { !$0.isEmpty }) ?? detail
    }

    private static func renderBuiltin(_ name: String, _ messages: [ChatMessage], addAssistantHeader: Bool) throws
        -> String
    {
        let (roles, contents) = CStrings.of(messages)
        defer { CStrings.free(roles, contents) }
        let chat = (0..<messages.count).map { llama_chat_message(role: roles[$0], content: contents[$0]) }
        var capacity = max(256, 2 * messages.reduce(0) { $0 + $1.content.utf8.count } + 256)
        while true {
            var buffer = [CChar](repeating: 0, count: capacity)
            let n = llama_chat_apply_template(name, chat, chat.count, addAssistantHeader, &buffer, Int32(capacity))
            if n < 0 { throw LlamaError.unsupportedChatTemplate(excerpt: name) }
            if Int(n) <= capacity {
                return String(decoding: buffer[0..<Int(n)].map { UInt8(bitPattern: $0) }, as: UTF8.self)
            }
            capacity = Int(n)
        }
    }
}

/// Messages' roles and contents as C strings, for the two C rendering APIs; freed by `free`.
private enum CStrings {
    static func of(_ messages: [ChatMessage]) -> (
        roles: [UnsafeMutablePointer<CChar>?], contents: [UnsafeMutablePointer<CChar>?]
    ) {
        (messages.map { strdup($0.role.rawValue) }, messages.map { strdup($0.content) })
    }

    static func free(_ roles: [UnsafeMutablePointer<CChar>?], _ contents: [UnsafeMutablePointer<CChar>?]) {
        (roles + contents).forEach { Foundation.free($0) }
    }
}

/// Chat templates on their own, without a model: for checking a template's rendering.
public enum ChatTemplates {
    /// Renders `messages` with the Jinja template `source` as a model with these BOS and EOS
    /// token texts would (the system message moved into the first user message when the
    /// template refuses one); returns the text and whether the template accepts system messages.
    public static func render(
        source: String, bos: String, eos: String, messages: [ChatMessage], addGenerationPrompt: Bool, date: ChatDate
    ) throws -> (text: String, acceptsSystem: Bool) {
        let renderer = try ChatRenderer(source: source, origin: .model, bos: bos, eos: eos)
        return (
            try renderer.render(messages, addAssistantHeader: addGenerationPrompt, date: date),
            renderer.info.acceptsSystem
        )
    }
}
