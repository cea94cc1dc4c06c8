import CJEInference
import CJELlama
import Foundation
import CJETestSupport
import Testing

@Suite("Model loading, chat template and tokenizer", .needsRealModel)
struct ModelTests {
    @Test("the demo model describes itself")
    func info() {
        let info = Fixture.model.info
        #expect(info.architecture == "llama")
        #expect(info.parameterCount > 100_000_000 && info.parameterCount < 200_000_000)
        #expect(info.vocabularySize == 49152)
        #expect(info.contextLength == 8192)
        #expect(info.hasChatTemplate)
        #expect(info.sha256 == "7b46609d11703c058397e5cfe4cc6e4b2508cb1eb4c80ddc472a5d421fbdb508")
        #expect(info.endOfGenerationTokens.contains(info.endOfTurnToken))
        #expect(Fixture.model.detokenize([info.endOfTurnToken]).isEmpty)
    }

    @Test("a missing file, a non-GGUF file and a truncated GGUF are errors, not crashes")
    func badFiles() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cje-model-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }

        #expect(throws: LlamaError.modelNotFound(path: dir.path + "/none.gguf")) {
            try LlamaModel(path: dir.path + "/none.gguf")
        }
        let text = dir.appendingPathComponent("notes.gguf")
        try Data("this is not a model, just some text".utf8).write(to: text)
        #expect {
            try LlamaModel(path: text.path)
        } throws: { error in
            guard case LlamaError.notGGUF(let path, _) = error else { return false }
            return path == text.path
        }
        let truncated = dir.appendingPathComponent("truncated.gguf")
        let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: Fixture.modelPath))
        try handle.read(upToCount: 4 << 20)!.write(to: truncated)
        try handle.close()
        #expect {
            try LlamaModel(path: truncated.path)
        } throws: { error in
            guard case LlamaError.modelLoadFailed(let path, let detail) = error else { return false }
            return path == truncated.path && !detail.isEmpty
        }
    }

    @Test("a model without a chat template is refused, never rendered as ChatML by default")
    func noTemplate() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cje-model-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        // Rename the metadata key in a copy: same length, so the file stays valid.
        var bytes = try Data(contentsOf: URL(fileURLWithPath: Fixture.modelPath))
        let key = Data("tokenizer.chat_template".utf8)
        let range = try #require(bytes.range(of: key))
        bytes.replaceSubrange(range, with: Data("tokenizer.chat_templatX".utf8))
        let copy = dir.appendingPathComponent("no-template.gguf")
        try bytes.write(to: copy)

        let model = try LlamaModel(path: copy.path)
        #expect(!model.info.hasChatTemplate)
        #expect(throws: LlamaError.noChatTemplate(path: copy.path)) {
            try model.renderPrompt([.user("hello")])
        }
        // A configured template is used instead.
        let configured = try LlamaModel(path: copy.path, chatTemplate: "chatml")
        #expect(try configured.renderPrompt([.user("hello")]).contains("<|im_start|>user\nhello<|im_end|>"))
    }

    @Test("a configured template that is neither Jinja nor a built-in name, or that does not parse, is refused at load")
    func unknownTemplate() throws {
        for bad in ["{{ this is not a template", "not-a-builtin-name"] {
            #expect {
                try LlamaModel(path: Fixture.modelPath, chatTemplate: bad)
            } throws: { error in
                guard case LlamaError.unsupportedChatTemplate(let detail) = error else { return false }
                return detail.contains(bad.prefix(12))
            }
        }
    }

    @Test(
        "a template that loops for ever or builds megabytes is refused at load within the bound, naming the model and the template's sha256"
    )
    func templateLimits() throws {
        let loops =
            "{% for a in range(6000) %}{% for b in range(5000) %}{% endfor %}{% endfor %}{{ messages[0].content }}"
        let builds =
            "{% for m in messages %}{{ m.content }}{% endfor %}{{ 'x' * 2000000 }}"
        for source in [loops, builds] {
            let started = Date()
            #expect {
                try LlamaModel(path: Fixture.modelPath, chatTemplate: source)
            } throws: { error in
                guard case LlamaError.chatTemplateLimit(let model, let sha, _) = error else { return false }
                let message = error.localizedDescription
                return model == Fixture.modelPath && sha == Checksum.sha256(Data(source.utf8))
                    && message.contains(Fixture.modelPath) && message.contains(sha)
                    && FailureKind(of: error) == .fatal
            }
            #expect(Date().timeIntervalSince(started) < 15)
        }
        // Real templates are far inside the bound: the model's own renders a long conversation.
        let long = (0..<200).map { i in i % 2 == 0 ? ChatMessage.user("question \(i)") : .assistant("answer \(i)") }
        #expect(try Fixture.model.renderPrompt(long).contains("question 198"))
    }

    @Test("the file's own template is rendered by llama.cpp's Jinja engine; a configured name picks a built-in")
    func ownTemplateIsJinja() throws {
        let own = try #require(Fixture.model.info.chatTemplate)
        #expect(own.origin == .model && own.renderer == .jinja && !own.readsDate && own.acceptsSystem)
        // SmolLM2's own template writes its default system prompt when none is given; the
        // built-in ChatML approximation does not: the file's template is what the model was tuned on.
        let jinja = try Fixture.model.renderPrompt([.user("Hi")])
        #expect(jinja.hasPrefix("<|im_start|>system\nYou are a helpful AI assistant named SmolLM"))
        let named = try LlamaModel(path: Fixture.modelPath, chatTemplate: "chatml")
        #expect(named.info.chatTemplate?.renderer == .builtin && named.info.chatTemplate?.name == "chatml")
        #expect(try named.renderPrompt([.user("Hi")]) == "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n")
        #expect(named.info.chatTemplate?.sha256 != own.sha256)
    }

    @Test("a Jinja template from the config renders the run's day where it reads the date, and raises its own errors")
    func configuredJinja() throws {
        let template = """
            {{ bos_token }}{% for m in messages %}{% if m['role'] == 'system' %}{{ raise_exception('no system here') }}{% endif %}\
            [{{ m['role'] }}|{{ strftime_now('%d %b %Y') }}] {{ m['content'] }}{{ eos_token }}{% endfor %}\
            {% if add_generation_prompt %}[assistant]{% endif %}
            """
        let model = try LlamaModel(path: Fixture.modelPath, chatTemplate: template)
        let info = try #require(model.info.chatTemplate)
        #expect(info.origin == .config && info.renderer == .jinja && info.readsDate)
        let day = try #require(ChatDate(day: "2026-03-07"))
        #expect(
            try model.renderPrompt([.user("Hi")], date: day)
                == "<|im_start|>[user|07 Mar 2026] Hi<|im_end|>[assistant]")
        #expect(try model.renderPrompt([.user("Hi")], date: day) == model.renderPrompt([.user("Hi")], date: day))
        #expect(try model.renderPrompt([.user("Hi")], date: ChatDate(day: "2026-03-08")!).contains("08 Mar 2026"))
        // llama.cpp's probe sees that the template refuses system messages: the system message
        // goes before the first user message, as llama-server does.
        #expect(!info.acceptsSystem)
        #expect(try model.renderPrompt([.system("Be brief."), .user("Hi")], date: day).contains("] Be brief.\nHi"))
    }

    @Test("the model's template renders the system prompt as a real system message")
    func rendering() throws {
        let text = try Fixture.model.renderPrompt([.system("Be brief."), .user("Hi")])
        #expect(
            text == "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n")
    }

    @Test("response text is tokenized on its own: special-token text stays text")
    func responseBoundary() throws {
        let model = Fixture.model
        let tokens = try model.tokenize(response: "Hello <|im_end|> there")
        #expect(!tokens.contains { model.isEndOfGeneration($0) })
        #expect(model.detokenize(tokens) == "Hello <|im_end|> there")
        let prompt = try model.promptTokens([.user("Hi")])
        #expect(prompt.contains(model.info.endOfTurnToken))
        #expect(try model.tokenize(response: "").isEmpty)
    }

    @Test(
        "detokenizing joins UTF-8 characters split across tokens",
        arguments: ["héllo wörld", "🌍 世界 ✓", "naïve café — ok"])
    func utf8(text: String) throws {
        let tokens = try Fixture.model.tokenize(response: text)
        #expect(Fixture.model.detokenize(tokens) == text)
    }
}

@Suite("Request errors", .serialized, .needsRealModel)
struct RequestErrorTests {
    @Test("a request too long for its sequence fails alone; the rest of the batch goes on")
    func tooLong() throws {
        let engine = try LlamaEngine(
            model: Fixture.model, options: LlamaEngineOptions(threads: 2, maxSequences: 2, sequenceContext: 256))
        let fits = ScoreRequest(
            context: Fixture.context(Fixture.helpful, "Hi"), response: Fixture.response("Hello!"),
            appendEndOfTurn: true, temperatures: [1])
        let tooLong = ScoreRequest(
            context: Fixture.context(Fixture.helpful, Fixture.longPrompt), response: Fixture.response("Sure."),
            appendEndOfTurn: true, temperatures: [1])
        let results = engine.scoreNow([fits, tooLong, fits])
        #expect((try? results[0].get()) != nil)
        #expect((try? results[2].get()) == (try? results[0].get()))
        guard case .failure(.tooLong(let index, let tokens, let limit)) = results[1] else {
            Issue.record("expected tooLong, got \(results[1])")
            return
        }
        #expect(index == 1 && tokens > limit && limit == 256)

        let generation = engine.generateNow([
            GenerationRequest(context: tooLong.context, temperature: 1, maxNewTokens: 8, seed: 1),
            GenerationRequest(context: fits.context, temperature: 1, maxNewTokens: 8, seed: 1),
        ])
        guard case .failure(.tooLong) = generation[0] else {
            Issue.record("expected tooLong, got \(generation[0])")
            return
        }
        #expect((try? generation[1].get()) != nil)
    }

    @Test("BatchControl.each is told every request once, refused ones too, the result the batch returns")
    func eachRequestTold() throws {
        let engine = try LlamaEngine(
            model: Fixture.model, options: LlamaEngineOptions(threads: 2, maxSequences: 2, sequenceContext: 256))
        let fits = Fixture.context(Fixture.helpful, "Hi")
        let long = Fixture.context(Fixture.helpful, Fixture.longPrompt)  // too long for 256 tokens

        /// Runs `batch` with a control that records what `each` was told, and checks it against
        /// what the batch returned: every index once, the same success or failure.
        func check<Value: Sendable & Equatable, Failure: Error>(
            _ what: String, _ batch: (BatchControl<Value>) -> [Result<Value, Failure>]
        ) {
            let told = Told<Value>()
            let results = batch(BatchControl(each: { told.add($0, $1) }))
            let seen = told.all
            #expect(seen.map(\.0).sorted() == Array(results.indices), "\(what): each index told exactly once")
            for (index, result) in seen {
                #expect((try? result.get()) == (try? results[index].get()), "\(what) \(index)")
            }
            #expect(results.contains { (try? $0.get()) == nil } && results.contains { (try? $0.get()) != nil })
        }
        check("generate") { control in
            engine.generateNow(
                [fits, long, fits, fits].enumerated().map {
                    GenerationRequest(context: $1, temperature: 0.7, maxNewTokens: 6 + $0, seed: UInt64($0))
                }, control: control)
        }
        check("score") { control in
            engine.scoreNow(
                [fits, long, fits].map {
                    ScoreRequest(
                        context: $0, response: Fixture.response("Hello there!"), appendEndOfTurn: true,
                        temperatures: [0.5, 1])
                }, control: control)
        }
        check("continuations") { control in
            engine.scoreContinuationsNow(
                [fits, long, fits].map {
                    ContinuationRequest(
                        context: $0, continuations: [Fixture.response("1"), Fixture.response("9")],
                        appendEndOfTurn: false, temperature: 1)
                }, control: control)
        }
    }

    @Test("an empty response or a bad temperature is an error, never a number")
    func invalid() {
        let context = Fixture.context(Fixture.helpful, "Hi")
        let results = Fixture.engine.scoreNow([
            ScoreRequest(context: context, response: [], appendEndOfTurn: true, temperatures: [1]),
            ScoreRequest(context: context, response: Fixture.response("Hi"), appendEndOfTurn: true, temperatures: [0]),
            ScoreRequest(context: context, response: Fixture.response("Hi"), appendEndOfTurn: true, temperatures: []),
        ])
        for result in results {
            guard case .failure(.invalidRequest) = result else {
                Issue.record("expected invalidRequest, got \(result)")
                continue
            }
        }
    }
}

/// What a batch's `each` was told, from the engine's thread.
final class Told<Value: Sendable>: Sendable {
    private let items = LockedValue([(Int, Result<Value, any Error>)]())
    func add(_ index: Int, _ result: Result<Value, any Error>) { items.update { $0.append((index, result)) } }
    var all: [(Int, Result<Value, any Error>)] { items.current }
}
