import ArgumentParser
import CJEPipeline
import CJEPrepKit
import Foundation

/// Options shared by the pipeline commands.
struct RunOptions: ParsableArguments {
    @Option(help: "The run directory.")
    var dir = "./data-run"

    @Option(help: "A YAML config (see `cje-prep init`); the built-in default when absent.")
    var config: String?

    @Option(help: "Run seed (overrides the config).")
    var seed: UInt64?

    @Option(
        help: ArgumentHelp(
            "Run shard K (from 0) of M, as K/M, into <dir>/shards/K-of-M; combine them with `cje-prep merge`.",
            discussion:
                "Without it, a Slurm array task (SLURM_ARRAY_TASK_ID) or a Kubernetes Indexed Job pod (JOB_COMPLETION_INDEX, with --shards or CJE_SHARDS) runs its own shard."
        ))
    var shard: String?

    @Option(help: "The number of shards, for a Kubernetes Indexed Job (default: $CJE_SHARDS).")
    var shards: Int?

    /// The request for the stages through `stage` (the shard from --shard or the scheduler).
    func request(n: Int?, through stage: RunStage) throws -> RunRequest {
        let shard: (shard: Shard, source: String)?
        if let text = self.shard {
            shard = (try Shard.parse(text), "--shard \(text)")
        } else {
            shard = try Shard.fromEnvironment(ProcessInfo.processInfo.environment, count: shards)
        }
        return RunRequest(
            directory: URL(fileURLWithPath: dir), config: try RunRequest.loadConfig(path: config, n: n, seed: seed),
            configName: config ?? "(built-in default)", through: stage, shard: shard?.shard,
            shardSource: shard?.source)
    }
}

/// Opens the session a pipeline command asks for, runs it on llama.cpp and closes it: a
/// refusal is a usage error, a stop by a signal exits 128 + its number.
enum Session {
    static func run(_ request: RunRequest) async throws {
        let session: RunSession
        do {
            session = try await RunSession.open(request, models: LlamaModels.loader)
        } catch let refusal as RunRefusal {
            throw ValidationError(refusal.reason)
        }
        defer { session.close() }
        do {
            try await session.run()
        } catch PipelineError.stopped(let signal) {
            throw ExitCode(StopSignals.exitCode(signal))
        }
    }
}
