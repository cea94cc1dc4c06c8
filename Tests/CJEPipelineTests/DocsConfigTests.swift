import CJEPipeline
import Foundation
import Testing

/// The configurations in docs/ work as written.
@Suite("Docs configs")
struct DocsConfigTests {
    static let page = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("docs/models.md")

    /// The YAML block after the marker `<!-- NAME: ... -->`.
    static func block(after marker: String) throws -> String {
        let text = try String(contentsOf: page, encoding: .utf8)
        let start = try #require(text.range(of: "<!-- \(marker):"))
        let fence = try #require(text.range(of: "```yaml\n", range: start.upperBound..<text.endIndex))
        let end = try #require(text.range(of: "```", range: fence.upperBound..<text.endIndex))
        return String(text[fence.upperBound..<end.lowerBound])
    }

    @Test("the original experiment's configuration loads and validates: Llama-3.2-3B Q6_K by hf: reference")
    func originalExperiment() throws {
        let config = try PipelineConfig.parse(try Self.block(after: "original-experiment"), path: "docs/models.md")
        try config.validate(path: "docs/models.md")
        let model = try #require(config.models["llama3b"])
        #expect(model.hubFile?.repo == "bartowski/Llama-3.2-3B-Instruct-GGUF")
        #expect(model.hubFile?.file == "Llama-3.2-3B-Instruct-Q6_K.gguf")
        #expect(config.policies.map(\.name) == ["p0", "pi_clone", "pi_bad"])
        #expect(config.policies.allSatisfy { $0.model == "llama3b" && $0.temperature == 0.5 })
        #expect(config.n == 10000)
    }
}
