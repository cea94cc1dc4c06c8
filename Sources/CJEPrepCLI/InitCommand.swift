import ArgumentParser
import CJEPipeline
import Foundation

struct InitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init", abstract: "Write a commented config file with every default.")

    @Argument(help: "Where to write it.")
    var path = "cje-prep.yaml"

    @Flag(help: "Replace an existing file.")
    var force = false

    func run() throws {
        let url = URL(fileURLWithPath: path)
        if FileManager.default.fileExists(atPath: url.path) && !force {
            throw ValidationError("\(path) already exists; pass --force to replace it")
        }
        try AtomicFile.write(Data(PipelineConfig.commentedDefault.utf8), to: url)
        print("wrote \(path)")
    }
}
