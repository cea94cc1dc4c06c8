import ArgumentParser
import CJEPipeline
import Foundation

struct FetchModelsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fetch-models",
        abstract: "Download the Hugging Face models a config names into the hub cache (and check those already there).",
        discussion: """
            Asks the Hub where each revision points now (a run uses the cached file without asking), \
            downloads what is missing with resume and retries, checks the sha256 and prints each file's \
            path and commit. HF_ENDPOINT, HF_TOKEN, HF_HUB_CACHE / HF_HOME and HF_HUB_OFFLINE are honoured.
            """)

    @Option(help: "A YAML config (see `cje-prep init`); the built-in default when absent.")
    var config: String?

    func run() async throws {
        let config = try RunRequest.loadConfig(path: self.config)
        let files = try await HubModels.fetch(config, refresh: true, say: { print($0) })
        if files.isEmpty { print("no model in the config is on the Hugging Face Hub (models.*.hf)") }
    }
}
