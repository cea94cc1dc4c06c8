import CJEInference
import CJEPipeline
import CJETestSupport
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Bad input through the real command line: the corpus in Tests/Corpus (malformed configs and
/// prompt files, each with its exit code and the words its error must hold) and a seeded
/// mutation fuzzer over valid ones. Whatever the input, `cje-prep run` must end with an error
/// (no model is reachable here, so even an input that happens to be valid stops at the model),
/// never a signal, and must leave nothing behind: the run directory is not created.
@Suite("Bad input")
struct BadInputTests {
    static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let corpus = repo.appendingPathComponent("Tests/Corpus")

    struct Case: Sendable, CustomStringConvertible {
        var kind: String
        var file: String
        var exit: Int32
        var words: [String]
        var description: String { file }
    }

    static func cases() throws -> [Case] {
        let text = try String(contentsOf: corpus.appendingPathComponent("cases.tsv"), encoding: .utf8)
        return text.split(separator: "\n").filter { !$0.hasPrefix("#") }.map { line in
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            return Case(
                kind: fields[0], file: fields[1], exit: Int32(fields[2])!,
                words: fields[3].components(separatedBy: " && "))
        }
    }

    @Test("every malformed config and prompt file of the corpus: its exit code, its words, nothing created")
    func corpusCases() async throws {
        let tool = try #require(CLITool.path, "cje-prep is built beside the tests (swift build --build-tests)")
        let cases = try Self.cases()
        #expect(cases.filter { $0.kind == "config" }.count >= 50)
        #expect(cases.filter { $0.kind == "prompts" }.count >= 50)
        let work = try TempFolder("cje-corpus")
        let problems = Lines()
        DispatchQueue.concurrentPerform(iterations: cases.count) { k in
            let one = cases[k]
            do {
                let folder = work.url.appendingPathComponent("case-\(k)")
                try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
                let input = try Self.materialize(one, in: folder)
                let config: URL
                if one.kind == "config" {
                    config = input
                } else {
                    config = folder.appendingPathComponent("config.yaml")
                    try Data("n: 2\nprompts: {source: \"\(input.path)\"}\n".utf8).write(to: config)
                }
                let run = folder.appendingPathComponent("run")
                let result = try CLITool.run(tool, ["run", "2", "--dir", run.path, "--config", config.path])
                var wrong: [String] = []
                if result.signaled { wrong.append("ended by signal \(result.code)") }
                if result.code != one.exit { wrong.append("exit \(result.code), expected \(one.exit)") }
                for word in one.words where !result.output.contains(word) { wrong.append("no '\(word)'") }
                if FileManager.default.fileExists(atPath: run.path) { wrong.append("created \(run.path)") }
                if !wrong.isEmpty {
                    problems.add("\(one.file): \(wrong.joined(separator: "; ")); said: \(result.output.prefix(400))")
                }
            } catch {
                problems.add("\(one.file): \(error)")
            }
        }
        for problem in problems.all.sorted() { print("wrong: \(problem)") }
        #expect(problems.all.isEmpty, "\(problems.all.count) of \(cases.count) corpus cases went wrong (printed)")
        print("bad input: \(cases.count) corpus cases, \(problems.all.count) wrong")
    }

    /// The corpus file, or for the cases too big to keep, the file made here.
    static func materialize(_ one: Case, in folder: URL) throws -> URL {
        let name = URL(fileURLWithPath: one.file).lastPathComponent
        switch one.file {
        case "configs/huge-file.yaml":
            let url = folder.appendingPathComponent(name)
            try Data(("# " + String(repeating: "x", count: 2 << 20) + "\nn: 3\n").utf8).write(to: url)
            return url
        case "prompts/huge-line.jsonl":
            let url = folder.appendingPathComponent(name)
            let line = "{\"prompt_id\": \"b\", \"prompt\": \"" + String(repeating: "y", count: 10 << 20) + "\n"
            try Data(("{\"prompt_id\": \"a\", \"prompt\": \"What is 2 + 2?\"}\n" + line).utf8).write(to: url)
            return url
        default:
            return corpus.appendingPathComponent(one.file)
        }
    }

    @Test("seeded mutations of valid configs and prompt files: no crash, no partial output")
    func fuzz() async throws {
        let tool = try #require(CLITool.path, "cje-prep is built beside the tests (swift build --build-tests)")
        let seconds = Double(ProcessInfo.processInfo.environment["CJE_FUZZ_SECONDS"] ?? "") ?? 20
        let seed = UInt64(ProcessInfo.processInfo.environment["CJE_FUZZ_SEED"] ?? "") ?? 12_345
        let work = try TempFolder("cje-fuzz")
        let deadline = Date().addingTimeInterval(seconds)
        let tried = Lines()
        let problems = Lines()
        // Two workers, each with its own stream of cases.
        DispatchQueue.concurrentPerform(iterations: 2) { worker in
            var rng = SplitMix64(seed: seed &+ UInt64(worker) &* 0x9E37_79B9)
            var k = 0
            while Date() < deadline {
                k += 1
                let folder = work.url.appendingPathComponent("w\(worker)-\(k)")
                let configURL = folder.appendingPathComponent("config.yaml")
                let promptsURL = folder.appendingPathComponent("prompts.jsonl")
                let mutatesConfig = rng.next() % 2 == 0
                let configBase = Self.configs[Int(rng.next() % UInt64(Self.configs.count))]
                let promptsBase = Self.promptFiles[Int(rng.next() % UInt64(Self.promptFiles.count))]
                var config = Data(configBase.replacingOccurrences(of: "PROMPTS", with: promptsURL.path).utf8)
                var prompts = Data(promptsBase.utf8)
                if mutatesConfig { config = Fuzz.mutate(config, &rng) } else { prompts = Fuzz.mutate(prompts, &rng) }
                do {
                    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
                    try config.write(to: configURL)
                    try prompts.write(to: promptsURL)
                    let run = folder.appendingPathComponent("run")
                    let result = try CLITool.run(
                        tool, ["run", "2", "--dir", run.path, "--config", configURL.path], timeout: 60)
                    tried.add(mutatesConfig ? "config" : "prompts")
                    var wrong: [String] = []
                    if result.signaled { wrong.append("ended by signal \(result.code)") }
                    if result.code == 0 { wrong.append("exit 0 without a model") }
                    if result.output.isEmpty { wrong.append("no message") }
                    if FileManager.default.fileExists(atPath: run.path) { wrong.append("created \(run.path)") }
                    if wrong.isEmpty {
                        try? FileManager.default.removeItem(at: folder)
                    } else {
                        problems.add(
                            "\(folder.path): \(wrong.joined(separator: "; ")); said: \(result.output.prefix(300))")
                    }
                } catch {
                    problems.add("\(folder.path): \(error)")
                }
            }
        }
        let configs = tried.all.filter { $0 == "config" }.count
        print(
            "fuzz: \(tried.all.count) cases in \(Int(seconds)) s (seed \(seed)): \(configs) configs, \(tried.all.count - configs) prompt files; \(problems.all.count) wrong"
        )
        #expect(tried.all.count > 20)
        #expect(problems.all.isEmpty, "\(problems.all.joined(separator: "\n"))")
        if problems.all.isEmpty { work.remove() }
    }

    /// Valid configs to mutate (PROMPTS is the case's prompt file).
    static let configs = [
        PipelineConfig.commentedDefault.replacingOccurrences(of: "source: builtin", with: "source: \"PROMPTS\""),
        """
        n: 3
        seed: 7
        prompts: {source: "PROMPTS", english_only: true}
        policies:
          - {name: p0, system_prompt: "You are a helpful assistant.", temperature: 0.7, max_tokens: 12}
          - {name: pi_bad, system_prompt: "Be vague.", max_tokens: 12}
        judge: {max_tokens: 4}
        oracle: {fraction: 0.5}
        engine: {threads: 1, sequence_context: 512}
        max_failure_rate: 0.1
        """,
        """
        prompts:
          source: "PROMPTS"
        models:
          other: {path: /models/x.gguf}
        policies:
        - name: p0
          system_prompt: |
            Be helpful.
        - name: p1
          model: other
          system_prompt: Be brief.
        providers:
          api: {model: m, base_url: "http://127.0.0.1:9/v1", api_key_env: NO_SUCH_KEY}
        budget: 2.5
        """,
    ]

    /// Valid prompt files to mutate.
    static let promptFiles = [
        """
        {"prompt_id": "a", "prompt": "What is 2 + 2?"}
        {"prompt_id": "b", "prompt": "Name a colour.", "language": "English"}
        {"prompt_id": "c", "prompt": "Say hello in French."}

        """,
        """
        [{"prompt_id": "a", "prompt": "What is 2 + 2?"}, {"prompt": "Name a colour."}]
        """,
        """
        {"question_id": "q1", "language": "English", "conversation_a": [{"role": "user", "content": "Hi there"}, {"role": "assistant", "content": "Hello"}], "openai_moderation": {"category_scores": {"violence": 0.01}}}
        {"question_id": 2, "language": "English", "conversation_a": [{"role": "user", "content": "What is a GPU?"}]}

        """,
    ]
}

/// Byte-level mutations of a valid input, biased towards what breaks parsers.
enum Fuzz {
    static let tokens: [[UInt8]] =
        [
            ":", "[", "]", "{", "}", "\"", "'", "\n", "\r\n", "\t", "-", "&a", "*a", "<<: *a", "---", "...", ".nan",
            ".inf",
            "-.inf", "NaN", "Infinity", "-1", "0", "1e999", "99999999999999999999999", "null", "~", "true", "!!binary",
            "!!python/object", "%YAML 1.1", "#", ",", "\\", "\\u0000", "\\ud800", "\u{FEFF}", "é", "𝄞",
        ].map { Array($0.utf8) } + [[0], [0xFF], [0xC3], [0xED, 0xA0, 0x80], [0xEF, 0xBB, 0xBF]]

    static func mutate(_ data: Data, _ rng: inout SplitMix64) -> Data {
        var bytes = [UInt8](data)
        let rounds = 1 + Int(rng.next() % 4)
        for _ in 0..<rounds {
            let at = bytes.isEmpty ? 0 : Int(rng.next() % UInt64(bytes.count))
            switch rng.next() % 8 {
            case 0:  // delete a run of bytes
                let count = min(bytes.count - at, 1 + Int(rng.next() % 16))
                bytes.removeSubrange(at..<(at + count))
            case 1:  // insert a token
                bytes.insert(contentsOf: tokens[Int(rng.next() % UInt64(tokens.count))], at: at)
            case 2:  // overwrite a byte
                if !bytes.isEmpty { bytes[at] = UInt8(truncatingIfNeeded: rng.next()) }
            case 3:  // truncate
                bytes = Array(bytes.prefix(at))
            case 4:  // duplicate a line
                let lines = bytes.split(separator: 0x0A, omittingEmptySubsequences: false)
                if let line = lines.randomElement(using: &rng) { bytes.insert(contentsOf: line + [0x0A], at: at) }
            case 5:  // swap two lines
                var lines = bytes.split(separator: 0x0A, omittingEmptySubsequences: false).map(Array.init)
                if lines.count > 1 {
                    lines.swapAt(Int(rng.next() % UInt64(lines.count)), Int(rng.next() % UInt64(lines.count)))
                }
                bytes = Array(lines.joined(separator: [0x0A]))
            case 6:  // repeat a span many times (long lines, deep nesting)
                let count = min(bytes.count - at, 1 + Int(rng.next() % 8))
                let span = Array(bytes[at..<(at + count)])
                let times = 1 + Int(rng.next() % 2000)
                bytes.insert(contentsOf: Array(repeating: span, count: times).flatMap { $0 }, at: at)
            default:  // replace a digit with a big or negative number
                if let digit = bytes.indices.filter({ bytes[$0] >= 0x30 && bytes[$0] <= 0x39 }).randomElement(
                    using: &rng)
                {
                    let replacement = ["-7", "0", "1e308", "-0.0", "18446744073709551616", ".5"].randomElement(
                        using: &rng)!
                    bytes.replaceSubrange(digit...digit, with: Array(replacement.utf8))
                }
            }
        }
        return Data(bytes)
    }
}

/// The built `cje-prep`, run as a user runs it.
enum CLITool {
    struct Result {
        var code: Int32
        var signaled: Bool
        var output: String
    }

    /// `cje-prep` beside the test bundle (both are in .build/<configuration>), or $CJE_PREP_BINARY.
    static let path: URL? = {
        if let given = ProcessInfo.processInfo.environment["CJE_PREP_BINARY"] { return URL(fileURLWithPath: given) }
        var folder = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = folder.appendingPathComponent("cje-prep")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            folder = folder.deletingLastPathComponent()
        }
        return nil
    }()

    /// Runs it with no model reachable (CJE_MODEL unset, an empty cache), stdout and stderr
    /// together into a file. Spawned and reaped with posix_spawn and waitpid: Foundation's
    /// Process, launched from several threads at once, crashed the test process now and then.
    static func run(_ tool: URL, _ arguments: [String], timeout: TimeInterval = 120) throws -> Result {
        var environment = ProcessInfo.processInfo.environment
        environment["CJE_MODEL"] = nil
        environment["CJE_CACHE"] = FileManager.default.temporaryDirectory.appendingPathComponent("cje-no-cache").path
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("cje-cli-\(UUID().uuidString).out")
        defer { try? FileManager.default.removeItem(at: output) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, output.path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        let argv = ([tool.path] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            for pointer in argv + envp { free(pointer) }
        }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, tool.path, &actions, nil, argv, envp)
        guard spawned == 0 else { throw POSIXError(POSIXErrorCode(rawValue: spawned) ?? .EIO) }
        let deadline = Date().addingTimeInterval(timeout)
        var status: Int32 = 0
        while waitpid(pid, &status, WNOHANG) == 0 {
            if Date() > deadline { kill(pid, SIGKILL) }
            usleep(2_000)
        }
        let signaled = (status & 0x7f) != 0
        let code = signaled ? status & 0x7f : (status >> 8) & 0xff
        let text = (try? Data(contentsOf: output)).map { String(decoding: $0, as: UTF8.self) } ?? ""
        return Result(code: code, signaled: signaled, output: text)
    }
}

/// A temporary folder, removed when the test asks.
struct TempFolder {
    let url: URL

    init(_ prefix: String) throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    func remove() { try? FileManager.default.removeItem(at: url) }
}
