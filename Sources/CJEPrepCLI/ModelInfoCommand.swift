import ArgumentParser
import CJELlama
import Foundation

struct ModelInfoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "model-info", abstract: "Print what a GGUF model says about itself, as JSON.")

    @OptionGroup var modelOptions: ModelOptions

    func run() async throws {
        let model = try LlamaModel(path: modelOptions.model)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        print(String(decoding: try encoder.encode(model.info), as: UTF8.self))
    }
}
