import CJEInference
import CJEPipeline
import CJETestSupport
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// What a run does when a cluster is unkind to it: stopped by a signal, killed, out of disk,
/// started twice, given prompts that cannot fit, or a prompt file that changed under it.
@Suite("Reliability")
struct ReliabilityTests {
    /// A fresh copy of the reference run's config whose engine asks to stop once `when` says so.
    static func stoppingRun(_ name: String, when: @escaping @Sendable (FakeEngine.Counts) -> Bool) throws -> FakeRun {
        let run = try FakeRun(name)
        let (engine, stop) = (run.engine, run.stop)
        engine.afterEach {
            if when(engine.counts) { stop.request("SIGTERM") }
        }
        return run
    }

    @Test(
        "a stop mid-stage journals every item that finished, computes none of them again, and resumes byte-identical",
        arguments: ["generate", "judge"])
    func stopAndResume(stage: String) async throws {
        let reference = try await PipelineTests.reference()
        let k = 7
        let run = try Self.stoppingRun("stop-\(stage)") { counts in
            stage == "generate" ? counts.generated == k : counts.continuations == k
        }
        await #expect(throws: PipelineError.stopped(signal: "SIGTERM")) { try await run.execute() }
        #expect(run.journalLines(stage).count == k, "each finished item is journaled as it finishes")
        #expect(try run.manifest().outcome?.completed == false)
        #expect(!FileManager.default.fileExists(atPath: run.run.cjeDataset.path))

        // Resumed by a new invocation: the k items are not computed again.
        var resumed = run
        resumed.engine = FakeEngine()
        resumed.stop = StopFlag()
        let reports = try await resumed.execute()
        let owed = stage == "generate" ? 18 : reports.first { $0.stage == "judge" }!.total
        #expect(reports.first { $0.stage == stage }?.doneNow == owed - k)
        // Validate's audit regenerates 10 draws alone.
        if stage == "generate" { #expect(resumed.engine.counts.generated == 18 - k + 10) }
        if stage == "judge" { #expect(resumed.engine.counts.generated == 10) }
        #expect(try resumed.outputs() == reference.outputs)
        #expect(resumed.journalLines(stage).count == owed, "no item journaled twice")
    }

    @Test("a stop asked before a stage starts ends the run at once with nothing new in the journals")
    func stopBeforeWork() async throws {
        let run = try FakeRun("stop-early")
        run.stop.request("SIGINT")
        await #expect(throws: PipelineError.stopped(signal: "SIGINT")) { try await run.execute() }
        #expect(run.journalLines("generate").isEmpty)
        #expect(run.engine.counts.generated == 0)
    }

    @Test(
        "a full disk fails the run naming the file and ENOSPC; the journal stays loadable and the resume, once space is freed, is byte-identical",
        arguments: [0, 300, 2_000, 6_000, 12_000, 20_000, 40_000])
    func fullDisk(bytes: Int) async throws {
        let reference = try await PipelineTests.reference()
        var run = try FakeRun("full-disk-\(bytes)")
        FileFaults.inject(under: run.dir, errno: ENOSPC, afterBytes: bytes)
        defer { FileFaults.clear(under: run.dir) }
        await #expect {
            try await run.execute()
        } throws: { error in
            guard case PipelineError.unwritable(let path, let detail) = error else { return false }
            return path.hasPrefix(run.dir.path) && detail == "No space left on device (ENOSPC)"
        }
        for stage in run.run.journalNames {
            _ = try Journal<JournalEntry<AnyCodableValue>>(url: run.run.journal(stage)).load()
        }
        FileFaults.clear(under: run.dir)
        run.engine = FakeEngine()
        try await run.execute()
        #expect(try run.outputs() == reference.outputs)
    }

    @Test("a read-only run directory or an I/O error is an error naming the path and the cause")
    func otherWriteErrors() async throws {
        for (code, words) in [(EROFS, "Read-only file system (EROFS)"), (EIO, "Input/output error (EIO)")] {
            let run = try FakeRun("write-error-\(code)")
            FileFaults.inject(under: run.dir, errno: code, afterBytes: 5_000)
            defer { FileFaults.clear(under: run.dir) }
            await #expect {
                try await run.execute()
            } throws: { error in
                error.localizedDescription.contains("cannot write \(run.dir.path)")
                    && error.localizedDescription.contains(words)
            }
        }
    }

    @Test(
        "one writer per run directory: a second is refused naming the holder; shards run side by side, a merge needs them all stopped"
    )
    func locks() throws {
        let dir = temporaryDirectory("locks")
        let run = RunDirectory(root: dir)
        let first = try RunLock.acquire(run, layout: .plain, command: "run")
        #expect {
            try RunLock.acquire(run, layout: .plain, command: "judge")
        } throws: { error in
            let text = error.localizedDescription
            return text.contains("in use by `cje-prep run` (pid \(getpid()) on \(ProcessInfo.processInfo.hostName)")
                && text.contains("started 20")
        }
        first.release()
        try RunLock.acquire(run, layout: .plain, command: "run").release()

        let zero = try RunLock.acquire(run, layout: .shard(try Shard.parse("0/2")), command: "run")
        let one = try RunLock.acquire(run, layout: .shard(try Shard.parse("1/2")), command: "run")
        #expect(throws: PipelineError.self) {
            try RunLock.acquire(run, layout: .shard(try Shard.parse("1/2")), command: "run")
        }
        #expect {
            try RunLock.acquire(run, layout: .merge(frozen: []), command: "merge")
        } throws: { error in
            error.localizedDescription.contains("shard 0-of-2: `cje-prep run`")
                && error.localizedDescription.contains("shard 1-of-2: `cje-prep run`")
        }
        zero.release()
        one.release()
        let merge = try RunLock.acquire(run, layout: .merge(frozen: []), command: "merge")
        #expect {
            try RunLock.acquire(run, layout: .shard(try Shard.parse("0/2")), command: "run")
        } throws: { error in error.localizedDescription.contains("`cje-prep merge`") }
        merge.release()
    }

    @Test("prompts that cannot fit a sequence and empty prompts are left out and counted; the sample is still n")
    func promptsThatCannotFit() async throws {
        var run = try FakeRun("fit", engine: FakeEngine(sequenceContext: 4096))
        run.config.engine.sequenceContext = 4096
        let long = String(repeating: "Explain this at length. ", count: 180)
        try run.usePrompts([
            "What is 2 + 2?", long, "   ", "Name a colour.", long + "!", "Say hi.", "Why?", "How?", "Who?",
        ])
        run.config.n = 5
        try await run.execute()
        let prompts = try run.decode(PromptRecord.self, run.run.prompts)
        #expect(prompts.count == 5)
        #expect(!prompts.contains { $0.prompt.hasPrefix("Explain") })
        let outcome = try #require(try run.manifest().prompts)
        #expect(outcome.written == 5 && outcome.leftOut["empty"] == 1)
        #expect((outcome.leftOut["too_long"] ?? 0) >= 1)
        #expect(
            run.lines.all.contains { $0.contains("left out: ") && $0.contains("too long for 4096-token sequences") })
        for stage in ["generate", "logprobs", "judge"] { #expect(try run.manifest().stages[stage]?.failed == 0) }
    }

    @Test("an item that fails the same way every time (too long for a sequence) is not tried again")
    func permanentFailure() async throws {
        var run = try FakeRun("permanent", engine: FakeEngine(sequenceContext: 256))
        run.config.engine.sequenceContext = 4096  // the prompts stage lets it through; the engine cannot
        try run.usePrompts([String(repeating: "Explain this at length. ", count: 12), "What is 2 + 2?"])
        run.config.n = 2
        run.config.maxFailureRate = 1
        try await run.execute(through: .generate)
        #expect(try run.manifest().stages["generate"]?.failed == 3)
        let second = FakeEngine(sequenceContext: 256)
        run.engine = second
        try await run.execute(through: .generate)
        #expect(second.counts.generated == 0, "the 3 impossible items are not retried")
    }

    @Test("a prompt file changed under a run is refused on resume, naming the file")
    func promptFileChanged() async throws {
        var run = try FakeRun("prompt-file")
        try run.usePrompts(["What is 2 + 2?", "Name a colour.", "Say hi."])
        run.config.n = 2
        try await run.execute(through: .generate)
        let file = URL(fileURLWithPath: run.config.prompts.source)
        try (try Data(contentsOf: file) + Data("{\"prompt_id\": \"new\", \"prompt\": \"Another\"}\n".utf8)).write(
            to: file)
        await #expect {
            try await run.execute()
        } throws: { error in
            guard case PipelineError.fingerprintMismatch(_, let changes) = error else { return false }
            return changes.count == 1 && changes[0].contains("the content of the prompt file \(file.path) changed")
        }
    }
}

/// Any journal value, to check that a journal loads whatever its stage.
struct AnyCodableValue: Codable, Sendable, Hashable {
    init(from decoder: any Decoder) throws { _ = try decoder.singleValueContainer() }
    func encode(to encoder: any Encoder) throws {}
}
