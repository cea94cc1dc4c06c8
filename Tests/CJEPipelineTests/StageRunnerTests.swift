import CJEInference
import CJEPipeline
import CJETestSupport
import Foundation
import Testing

/// The runner on a toy stage: which items are due, lanes and batches, journaling, stops, the
/// failure threshold, and the journal's format on disk.
@Suite("Stage runner")
struct StageRunnerTests {
    /// Items are ids; an id in `failing` fails, one in `stopAt` stops the batch (a 401 would).
    struct ToyStage: ItemStage {
        struct Value: Codable, Sendable, Hashable {
            var id: String
            var ok: Bool
        }

        let failing: Set<String>
        var stopAt: String?
        var throwsAt: String?
        let worked = Worked()

        var name: String { "toy" }

        func items(for input: [String]) -> [StageItem<String>] {
            input.map {
                StageItem(
                    key: ItemKey(promptId: $0, policy: "p"), lane: $0.hasPrefix("x") ? .provider("api") : .model("m"),
                    payload: $0)
            }
        }

        func isFailure(_ value: Value) -> Bool { !value.ok }

        func batchSize(on lane: Lane) -> Int { lane == .model("m") ? 2 : 3 }

        func process(
            _ batch: [String], on lane: Lane, finished: @escaping @Sendable (Int, Value) -> Void
        ) async throws -> BatchResult<Value> {
            if let throwsAt, batch.contains(throwsAt) { throw PipelineError.impossible("engine lost") }
            worked.add(batch, lane)
            var values: [Value?] = []
            for id in batch {
                if id == stopAt {
                    return BatchResult(
                        values: values + Array(repeating: nil, count: batch.count - values.count),
                        stop: PipelineError.impossible("stopped"))
                }
                values.append(Value(id: id, ok: !failing.contains(id)))
            }
            return BatchResult(values: values)
        }

        func write(_ input: [String], values: [ItemKey: Value]) throws -> StageOutcome<[String]> {
            let failed = input.filter { !(values[ItemKey(promptId: $0, policy: "p")]?.ok ?? false) }
            return StageOutcome(output: input.filter { !failed.contains($0) }, total: input.count, failed: failed.count)
        }
    }

    final class Worked: Sendable {
        private let batches = LockedValue([(items: [String], lane: Lane)]())
        func add(_ items: [String], _ lane: Lane) { batches.update { $0.append((items, lane)) } }
        var all: [(items: [String], lane: Lane)] { batches.current }
    }

    let run: FakeRun

    init() throws {
        run = try FakeRun("runner", yaml: "max_failure_rate: 0.5\nmax_attempts: 2\n")
    }

    @Test("providers first, then models, each in batches of its size, items in order; each batch journaled")
    func lanesAndBatches() async throws {
        let stage = ToyStage(failing: [])
        let (output, report) = try await StageRunner(context: try run.context()).run(
            stage, input: ["a", "x1", "b", "c", "x2", "d", "e"])
        #expect(stage.worked.all.map(\.items) == [["x1", "x2"], ["a", "b"], ["c", "d"], ["e"]])
        #expect(stage.worked.all.map(\.lane) == [.provider("api"), .model("m"), .model("m"), .model("m")])
        #expect(output == ["a", "x1", "b", "c", "x2", "d", "e"])
        #expect(report.total == 7 && report.succeeded == 7 && report.doneNow == 7)
        #expect(run.journalLines("toy").count == 7)
        #expect(try run.manifest().stages["toy"] == report)
    }

    @Test("the journal's lines keep their format: flat prompt_id and policy beside attempt and value")
    func journalFormat() async throws {
        _ = try await StageRunner(context: try run.context()).run(ToyStage(failing: []), input: ["a"])
        #expect(
            run.journalLines("toy") == [#"{"attempt":1,"policy":"p","prompt_id":"a","value":{"id":"a","ok":true}}"#])
    }

    @Test("only due items are worked: failures are retried up to max_attempts, successes never")
    func dueItems() async throws {
        let input = ["a", "b", "c"]
        var stage = ToyStage(failing: ["b"])
        _ = try await StageRunner(context: try run.context()).run(stage, input: input)
        stage = ToyStage(failing: ["b"])
        let (_, second) = try await StageRunner(context: try run.context()).run(stage, input: input)
        #expect(stage.worked.all.map(\.items) == [["b"]] && second.doneNow == 1)
        stage = ToyStage(failing: [])
        let (output, third) = try await StageRunner(context: try run.context()).run(stage, input: input)
        #expect(stage.worked.all.isEmpty && third.doneNow == 0, "b has used its 2 attempts")
        #expect(output == ["a", "c"] && third.failed == 1)
        #expect(run.journalLines("toy").last?.contains(#""attempt":2"#) == true)
    }

    @Test("a stop journals what finished, writes no output and keeps no report; the next run goes on")
    func stop() async throws {
        var stage = ToyStage(failing: [])
        stage.stopAt = "c"
        await #expect(throws: PipelineError.impossible("stopped")) {
            _ = try await StageRunner(context: try run.context()).run(stage, input: ["a", "b", "c", "d", "e"])
        }
        #expect(run.journalLines("toy").count == 2, "a and b; c's batch stopped before c, d never started")
        #expect(try run.manifest().stages["toy"] == nil)
        let (output, report) = try await StageRunner(context: try run.context()).run(
            ToyStage(failing: []), input: ["a", "b", "c", "d", "e"])
        #expect(output.count == 5 && report.doneNow == 3)
    }

    @Test("a batch that throws journals nothing of itself; the batches before it are kept")
    func throwing() async throws {
        var stage = ToyStage(failing: [])
        stage.throwsAt = "d"
        await #expect(throws: PipelineError.impossible("engine lost")) {
            _ = try await StageRunner(context: try run.context()).run(stage, input: ["a", "b", "c", "d"])
        }
        #expect(run.journalLines("toy").count == 2)
    }

    @Test("over max_failure_rate the stage fails after its outputs and report are written")
    func threshold() async throws {
        let context = try run.context()
        await #expect {
            _ = try await StageRunner(context: context).run(ToyStage(failing: ["a", "b"]), input: ["a", "b", "c"])
        } throws: { error in
            guard case PipelineError.tooManyFailures("toy", 2, 3, 0.5) = error else { return false }
            return true
        }
        #expect(try run.manifest().stages["toy"]?.failed == 2)
        #expect(run.lines.all.contains { $0.hasPrefix("toy: 1/3 done, 2 failed, ") })
    }

    @Test("a journal line torn by a crash is cut and its item done again")
    func tornLine() async throws {
        _ = try await StageRunner(context: try run.context()).run(ToyStage(failing: []), input: ["a", "b"])
        let url = run.run.journal("toy")
        var data = try Data(contentsOf: url)
        data.removeLast(10)
        try data.write(to: url)
        let stage = ToyStage(failing: [])
        let (_, report) = try await StageRunner(context: try run.context()).run(stage, input: ["a", "b"])
        #expect(stage.worked.all.map(\.items) == [["b"]] && report.doneNow == 1)
        #expect(run.journalLines("toy").count == 2)
    }
}
