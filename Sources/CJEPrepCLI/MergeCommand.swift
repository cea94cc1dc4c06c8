import ArgumentParser
import CJEPipeline
import Foundation

/// `cje-prep merge`: the shards of a split run into the files an unsplit run writes.
struct MergeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract:
            "Combine the finished shards of a split run into the data set of the unsplit run, then run the oracle, export and validate.",
        discussion:
            "Without --config, the settings the shards were made with (kept in their manifests) are used.")

    @OptionGroup var options: RunOptions

    func validate() throws {
        if options.shard != nil || options.shards != nil {
            throw ValidationError("merge takes no --shard or --shards: it merges every shard under <dir>/shards")
        }
    }

    func run() async throws {
        let directory = URL(fileURLWithPath: options.dir)
        let config =
            try options.config.map { try RunRequest.loadConfig(path: $0, seed: options.seed) }
            ?? RunRequest.shardsConfig(of: directory)
        try await Session.run(
            RunRequest(
                directory: directory, config: config,
                configName: options.config ?? "the shards' manifests (\(directory.path)/shards)", merge: true))
    }
}
