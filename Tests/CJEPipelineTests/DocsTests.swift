import CJEPipeline
import Foundation
import Testing

/// The README and `docs/` say what is true of the repository: the paths they name exist, their
/// links resolve, their config example loads, and `init` writes every key the config accepts.
@Suite("Docs")
struct DocsTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    static func text(_ path: String) throws -> String {
        try String(contentsOf: root.appendingPathComponent(path), encoding: .utf8)
    }

    /// README.md and every page under docs/.
    static func pages() throws -> [String] {
        let docs = try FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent("docs").path)
        return ["README.md"] + docs.filter { $0.hasSuffix(".md") }.sorted().map { "docs/" + $0 }
    }

    /// The lines of `text` outside code fences.
    static func prose(_ text: String) -> [Substring] {
        var inFence = false
        return text.split(separator: "\n", omittingEmptySubsequences: false).filter { line in
            if line.hasPrefix("```") { inFence.toggle() }
            return !inFence && !line.hasPrefix("```")
        }
    }

    /// GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens.
    static func anchor(_ heading: Substring) -> String {
        String(
            heading.lowercased().filter { $0.isLetter || $0.isNumber || $0 == " " || $0 == "-" || $0 == "_" }
                .map { $0 == " " ? "-" : $0 })
    }

    static func anchors(_ text: String) -> Set<String> {
        Set(prose(text).filter { $0.hasPrefix("#") }.map { anchor($0.drop { $0 == "#" }.dropFirst()) })
    }

    @Test("the README is short: what it is, the two commands, a config, the outputs, links")
    func readmeIsShort() throws {
        let lines = try Self.text("README.md").split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.count <= 250, "README.md has \(lines.count) lines; move detail to docs/")
        #expect(lines.contains { $0.hasPrefix("make demo") } && lines.contains { $0.hasPrefix("make test") })
    }

    @Test("every relative link of the README and docs/ names a file that exists, and a heading it has")
    func linksResolve() throws {
        let link = /\]\(([^)\s]+)\)/
        var broken: [String] = []
        for page in try Self.pages() {
            let base = URL(fileURLWithPath: page).deletingLastPathComponent().relativePath
            for line in Self.prose(try Self.text(page)) {
                for match in line.matches(of: link) {
                    let target = String(match.output.1)
                    if target.contains("://") || target.hasPrefix("mailto:") { continue }
                    let parts = target.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false)
                    let file = parts[0].isEmpty ? page : (base == "." ? "" : base + "/") + parts[0]
                    guard FileManager.default.fileExists(atPath: Self.root.appendingPathComponent(file).path) else {
                        broken.append("\(page): \(target) (no file \(file))")
                        continue
                    }
                    if parts.count == 2, file.hasSuffix(".md"),
                        !Self.anchors(try Self.text(file)).contains(String(parts[1]))
                    {
                        broken.append("\(page): \(target) (no such heading in \(file))")
                    }
                }
            }
        }
        #expect(broken.isEmpty, "\(broken.joined(separator: "\n"))")
    }

    @Test("every path the layout tables name exists")
    func layoutPathsExist() throws {
        var missing: [String] = []
        for page in ["README.md", "docs/layout.md"] {
            let text = try Self.text(page)
            let start = try #require(text.range(of: "# Layout\n"))
            let rows = text[start.upperBound...].split(separator: "\n").drop { !$0.hasPrefix("|") }.prefix {
                $0.hasPrefix("|")
            }
            #expect(rows.count > 5, "\(page): no layout table")
            for row in rows.dropFirst(2) {
                let first = row.split(separator: "|", omittingEmptySubsequences: true).first ?? ""
                for path in first.matches(of: /`([^`]+)`/).map({ String($0.output.1) }) {
                    // A placeholder (`Stages/<stage>`) names its folder.
                    let checked = path.components(separatedBy: "/<").first ?? path
                    if !FileManager.default.fileExists(atPath: Self.root.appendingPathComponent(checked).path) {
                        missing.append("\(page): \(path)")
                    }
                }
            }
        }
        #expect(missing.isEmpty, "\(missing.joined(separator: "\n"))")
    }

    @Test("the README's config example loads and validates")
    func readmeConfig() throws {
        let text = try Self.text("README.md")
        let section = try #require(text.range(of: "## Config\n"))
        let fence = try #require(text.range(of: "```yaml\n", range: section.upperBound..<text.endIndex))
        let end = try #require(text.range(of: "```", range: fence.upperBound..<text.endIndex))
        let config = try PipelineConfig.parse(String(text[fence.upperBound..<end.lowerBound]), path: "README.md")
        try config.validate(path: "README.md")
        #expect(config.policies.map(\.name) == ["p0", "pi_clone", "pi_bad"])
    }

    @Test("init writes every key the config accepts, in its section")
    func initShowsEveryKey() throws {
        // Top-level blocks of the commented default: a line `key:` or `# key:` at column 0 with a
        // top-level key starts one.
        let topLevel = Set(PipelineConfig.keysBySection[""] ?? [])
        var blocks: [String: [Substring]] = [:]
        var current = ""
        for line in PipelineConfig.commentedDefault.split(separator: "\n") {
            if let match = line.wholeMatch(of: /#? ?([a-z_]+):.*/), topLevel.contains(String(match.output.1)) {
                current = String(match.output.1)
            }
            blocks[current, default: []].append(line)
        }
        var missing: [String] = []
        for (section, keys) in PipelineConfig.keysBySection {
            if section.isEmpty {
                missing += keys.filter { blocks[$0] == nil }
                continue
            }
            let block = (blocks[section] ?? []).dropFirst().joined(separator: "\n")
            for key in keys where block.firstMatch(of: try Regex("(^|[\\s#{,])\(key):")) == nil {
                missing.append("\(section).\(key)")
            }
        }
        #expect(missing.isEmpty, "keys init does not write: \(missing.sorted().joined(separator: ", "))")
    }

    /// The field names docs/outputs.md gives a file: the top-level names, and those inside
    /// `metadata{...}`.
    static func documentedFields(of file: String) throws -> (top: Set<String>, metadata: Set<String>) {
        let text = try Self.text("docs/outputs.md")
        let row = try #require(text.split(separator: "\n").first { $0.hasPrefix("| `\(file)` |") })
        let fields = try #require(row.split(separator: "|").dropFirst(2).first)
        var top: Set<String> = []
        var metadata: Set<String> = []
        for code in fields.matches(of: /`([^`]+)`/).map({ String($0.output.1) }) {
            var depth = 0
            var name = ""
            var inMetadata = false
            for character in code + "," {
                switch character {
                case "{":
                    if depth == 0 { inMetadata = name == "metadata" }
                    if depth == 0, !name.isEmpty { top.insert(name) }
                    depth += 1
                    name = depth == 1 ? "" : name
                case "}":
                    if depth == 1, inMetadata, !name.isEmpty { metadata.insert(name) }
                    depth -= 1
                    name = ""
                case ",":
                    if depth == 0, !name.isEmpty { top.insert(name) }
                    if depth == 1, inMetadata, !name.isEmpty { metadata.insert(name) }
                    name = ""
                case " ":
                    break
                default:
                    if character.isLetter || character == "_" || character.isNumber {
                        name.append(character)
                    } else {
                        name = "\u{0}"  // a value such as `policy/prompt_id/draw`, not a name
                    }
                }
            }
        }
        let isName = { (name: String) in name.allSatisfy { $0.isLowercase || $0 == "_" || $0.isNumber } }
        return (top.filter(isName), metadata.filter(isName))
    }

    @Test("docs/outputs.md names exactly the fields the export's row types write")
    func exportFormats() throws {
        let logged = try Self.documentedFields(of: "cje/cje_dataset.jsonl")
        #expect(logged.top == Set(LoggedRow.CodingKeys.allCases.map(\.rawValue)))
        #expect(logged.metadata == Set(LoggedRow.Metadata.CodingKeys.allCases.map(\.rawValue)))
        let fresh = try Self.documentedFields(of: "cje/responses/{policy}_responses.jsonl")
        #expect(fresh.top == Set(FreshDrawRow.CodingKeys.allCases.map(\.rawValue)))
        #expect(fresh.metadata == Set(FreshDrawRow.Covariates.CodingKeys.allCases.map(\.rawValue)))
        let frame = try Self.documentedFields(of: "cje/frame/{policy}.jsonl")
        #expect(frame.top == Set(FrameRow.CodingKeys.allCases.map(\.rawValue)))
    }
}
