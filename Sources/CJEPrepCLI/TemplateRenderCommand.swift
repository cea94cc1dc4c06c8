import ArgumentParser
import CJEInference
import CJELlama
import Foundation

/// `cje-prep template-render`: renders chat templates from a JSON array on stdin, for
/// Tests/Integration/template-check.sh, which compares each with Python's jinja2.
struct TemplateRenderCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "template-render",
        abstract:
            "Render chat templates read as JSON from stdin ([{template, bos, eos, messages, add_generation_prompt, date}]) and print [{text | error, accepts_system}].",
        shouldDisplay: false)

    struct Request: Decodable {
        var template: String
        var bos: String
        var eos: String
        var messages: [ChatMessage]
        var add_generation_prompt: Bool
        var date: String
    }

    struct Response: Encodable {
        var text: String?
        var error: String?
        var accepts_system: Bool?
    }

    func run() throws {
        let input = FileHandle.standardInput.readDataToEndOfFile()
        let requests = try JSONDecoder().decode([Request].self, from: input)
        let responses = requests.map { request -> Response in
            guard let date = ChatDate(day: request.date) else { return Response(error: "bad date \(request.date)") }
            do {
                let (text, accepts) = try ChatTemplates.render(
                    source: request.template, bos: request.bos, eos: request.eos, messages: request.messages,
                    addGenerationPrompt: request.add_generation_prompt, date: date)
                return Response(text: text, accepts_system: accepts)
            } catch {
                return Response(error: error.localizedDescription)
            }
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        FileHandle.standardOutput.write(try encoder.encode(responses))
    }
}
