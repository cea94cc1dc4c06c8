import ArgumentParser
import CJEPipeline
import Foundation

/// `cje-prep publish`: a finished run as a Hugging Face data set folder, and with `--repo` on the
/// Hub.
struct PublishCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "publish",
        abstract:
            "Write a validated run as a Hugging Face data set (dataset card, one JSON Lines file per config, the CJE bundle) into a folder, and upload it with --repo.",
        discussion:
            "Everything is checked before anything is written: the run must have passed validate, and --repo needs a valid owner/name and HF_TOKEN (a write token; HF_ENDPOINT names another Hub). The upload is one commit; a repository it created is deleted again if the upload fails for good."
    )

    @Argument(help: "The run directory.")
    var run: String

    @Option(help: "The folder to write (new, empty, or an earlier publish, which is replaced).")
    var to: String

    @Option(help: "The license the card declares (a Hub license id such as cc-by-4.0).")
    var license = "other"

    @Option(help: "Upload to this Hub dataset repository (owner/name).")
    var repo: String?

    @Flag(help: "Create the repository private.")
    var `private` = false

    func run() async throws {
        var request = PublishRequest(run: URL(fileURLWithPath: run), folder: URL(fileURLWithPath: to))
        request.license = license
        request.repo = repo
        request.isPrivate = `private`
        try await RunSession.publish(request) { print($0) }
    }
}
