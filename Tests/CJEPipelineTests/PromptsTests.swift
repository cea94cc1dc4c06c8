import CJEPipeline
import Foundation
import Testing

@Suite("Prompts stage")
struct PromptsTests {
    let dir: URL

    init() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("cje-prompts-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    func write(_ name: String, _ text: String) throws -> URL {
        let url = dir.appendingPathComponent(name)
        try Data(text.utf8).write(to: url)
        return url
    }

    static func arenaRow(_ id: String, _ text: String, language: String = "English", violence: Double = 0.01) -> String
    {
        let row: [String: Any] = [
            "question_id": id, "model_a": "a", "model_b": "b", "turn": 1, "language": language, "tstamp": 1.5,
            "conversation_a": [["role": "user", "content": text], ["role": "assistant", "content": "reply"]],
            "conversation_b": [["role": "user", "content": text], ["role": "assistant", "content": "other"]],
            "openai_moderation": [
                "flagged": false, "categories": ["violence": false], "category_scores": ["violence": violence],
            ],
        ]
        let data = try! JSONSerialization.data(withJSONObject: row, options: [.sortedKeys])
        return String(decoding: data, as: UTF8.self)
    }

    @Test("Arena rows: first user turn, trimmed, English only, duplicates and empties dropped, ids from question_id")
    func arena() throws {
        let lines = [
            Self.arenaRow("q1", "  What is 2+2?\n"),
            Self.arenaRow("q2", "Wie spät ist es?", language: "German"),
            Self.arenaRow("q3", "What is 2+2?"),
            Self.arenaRow("q4", "   "),
            Self.arenaRow("q5", "Tell me a joke.", violence: 0.9),
        ]
        let url = try write("arena.jsonl", lines.joined(separator: "\n"))
        let records = try PromptSource.load(from: url)
        #expect(records.map(\.promptId) == ["arena_q1", "arena_q5"])
        #expect(records[0].prompt == "What is 2+2?")
        #expect(records[0].metadata.sourceRow == 0 && records[1].metadata.sourceRow == 4)
        let strict = try PromptSource.load(from: url, filter: .init(maxModerationScore: 0.5))
        #expect(strict.map(\.promptId) == ["arena_q1"])

        let array = try write("arena.json", "[" + lines.joined(separator: ",") + "]")
        #expect(
            try PromptSource.load(from: array)
                == records.map {
                    var r = $0; r.metadata.source = "arena.json"; return r
                })
    }

    @Test("simple prompt files keep their ids; a missing id derives from the row")
    func simple() throws {
        let url = try write(
            "mine.jsonl",
            """
            {"prompt_id": "a1", "prompt": "Hello?", "language": "English"}

            {"prompt": "No id here"}
            """)
        let records = try PromptSource.load(from: url)
        #expect(records.map(\.promptId) == ["a1", "mine_1"])
    }

    @Test(
        "bad input names the file and line",
        arguments: [
            ("{\"prompt\": \"ok\"}\n{not json}\n", 2, "not valid JSON"),
            ("{\"prompt\": 5}\n", 1, "'prompt' should be a string"),
            ("{\"text\": \"hi\"}\n", 1, "neither a 'prompt'"),
            (
                "{\"prompt_id\": \"x\", \"prompt\": \"a\"}\n{\"prompt_id\": \"x\", \"prompt\": \"b\"}\n", 2,
                "appears twice"
            ),
        ])
    func badInput(text: String, line: Int, message: String) throws {
        let url = try write("bad.jsonl", text)
        #expect {
            try PromptSource.load(from: url)
        } throws: { error in
            guard case PipelineError.malformedLine(let path, let number, let detail) = error else { return false }
            return path == url.path && number == line && detail.contains(message)
                && error.localizedDescription.hasPrefix("\(url.path):\(line):")
        }
    }

    @Test("an input with no usable prompt is an error")
    func empty() throws {
        let url = try write("empty.jsonl", "\n\n")
        #expect(throws: PipelineError.self) { try PromptSource.load(from: url) }
    }

    @Test("sampling is seeded, and a larger N extends a smaller N's sample")
    func sampling() {
        let all = PromptSource.builtin
        let five = PromptSource.sample(all, n: 5, seed: 42)
        let ten = PromptSource.sample(all, n: 10, seed: 42)
        #expect(five.count == 5 && ten.count == 10)
        #expect(Array(ten.prefix(5)) == five)
        #expect(PromptSource.sample(all.reversed(), n: 5, seed: 42) == five)
        #expect(PromptSource.sample(all, n: 5, seed: 43) != five)
        #expect(PromptSource.sample(all, n: 100, seed: 1).count == all.count)
    }

    @Test("the built-in set has about thirty distinct prompts with stable ids")
    func builtin() {
        let all = PromptSource.builtin
        #expect(all.count == 30)
        #expect(Set(all.map(\.prompt)).count == 30)
        #expect(all.first?.promptId == "builtin_000")
    }
}

@Suite("JSONL storage")
struct JSONLinesTests {
    @Test("a torn last line is dropped from a journal and kept from an input")
    func tornLine() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("cje-jsonl-\(UUID().uuidString).jsonl")
        try Data("{\"a\":1}\n{\"a\":2}\n{\"a\":".utf8).write(to: url)
        #expect(try JSONLines.lines(of: url, unterminated: .drop).map(\.number) == [1, 2])
        #expect(try JSONLines.lines(of: url, unterminated: .keep).map(\.number) == [1, 2, 3])
    }

    @Test("an atomic write replaces the file whole and leaves no temporary file")
    func atomic() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cje-atomic-\(UUID().uuidString)")
        let url = dir.appendingPathComponent("out.jsonl")
        try AtomicFile.write(Data("old\n".utf8), to: url)
        try AtomicFile.write(try JSONLines.encode([["k": "v/w"]]), to: url)
        #expect(try String(contentsOf: url, encoding: .utf8) == "{\"k\":\"v/w\"}\n")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["out.jsonl"])
    }
}

/// The real Arena prompts in ../shared/data, when present (the product does not need them).
@Suite("Prompts stage on real Arena prompts")
struct RealArenaPromptsTests {
    static let file = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("shared/data/arena_prompts_5k.jsonl")

    @Test(
        "5,000 real prompts load with stable ids and sample reproducibly",
        .enabled(if: FileManager.default.fileExists(atPath: file.path)))
    func realPrompts() throws {
        let records = try PromptSource.load(from: Self.file)
        #expect(records.count > 4_900 && records.count <= 5_000)
        #expect(records.allSatisfy { $0.promptId.hasPrefix("arena_") && !$0.prompt.isEmpty })
        let sample = PromptSource.sample(records, n: 20, seed: 7)
        #expect(sample == PromptSource.sample(records.shuffled(), n: 20, seed: 7))
    }
}

@Suite("Text encodings that are fine")
struct TextEncodingTests {
    @Test("a UTF-8 byte-order mark and CRLF line ends read as the plain file does: prompts and config")
    func bomAndCRLF() throws {
        let dir = try TempFolder("cje-bom")
        defer { dir.remove() }
        let plain =
            "{\"prompt_id\": \"a\", \"prompt\": \"What is 2 + 2?\"}\n{\"prompt_id\": \"b\", \"prompt\": \"Hi\"}\n"
        let windows = Data([0xEF, 0xBB, 0xBF]) + Data(plain.replacingOccurrences(of: "\n", with: "\r\n").utf8)
        let a = dir.url.appendingPathComponent("plain.jsonl")
        let b = dir.url.appendingPathComponent("windows.jsonl")
        try Data(plain.utf8).write(to: a)
        try windows.write(to: b)
        #expect(try PromptSource.load(from: a).map(\.prompt) == PromptSource.load(from: b).map(\.prompt))
        #expect(try PromptSource.load(from: a).map(\.promptId) == PromptSource.load(from: b).map(\.promptId))
        #expect(try PromptSource.load(from: b).count == 2)

        let config = "n: 3\nseed: 9\npolicies:\n  - {name: p0, system_prompt: \"Be helpful.\"}\n"
        let c = dir.url.appendingPathComponent("plain.yaml")
        let d = dir.url.appendingPathComponent("windows.yaml")
        try Data(config.utf8).write(to: c)
        try (Data([0xEF, 0xBB, 0xBF]) + Data(config.replacingOccurrences(of: "\n", with: "\r\n").utf8)).write(to: d)
        #expect(try PipelineConfig.load(from: c) == PipelineConfig.load(from: d))
        #expect(try PipelineConfig.load(from: d).seed == 9)
    }
}
