import CJEInference
public import Foundation

/// Where prompts come from: Arena conversation files, simple prompt files, Hugging Face rows and
/// the built-in set; which rows are kept (usable English first turns, no duplicates); and the
/// seeded sample of N.
public enum PromptSource {
    /// Which rows to keep.
    public struct Filter: Sendable, Hashable {
        /// Keep rows whose `language` is English (rows without a language are kept).
        public var englishOnly: Bool
        /// Drop Arena rows whose largest OpenAI moderation category score exceeds this.
        public var maxModerationScore: Double?

        public init(englishOnly: Bool = true, maxModerationScore: Double? = nil) {
            self.englishOnly = englishOnly
            self.maxModerationScore = maxModerationScore
        }
    }

    /// Reads a source file: ChatBot Arena conversations (public schema: `question_id`,
    /// `conversation_a` as a list of `{role, content}`, `language`, `openai_moderation`, ...) or
    /// simple prompts (`{prompt_id, prompt}`), as a JSON array or as JSONL. Returns the rows that
    /// pass the filter, first user turn trimmed, exact duplicates (after trimming) dropped, in file
    /// order. Ids derive from the row: `arena_<question_id>` or the file's own `prompt_id`.
    public static func load(from url: URL, filter: Filter = Filter()) throws -> [PromptRecord] {
        try loadCounted(from: url, filter: filter).records
    }

    /// `load(from:filter:)` with the number of rows left out for being empty.
    public static func loadCounted(from url: URL, filter: Filter = Filter()) throws -> (
        records: [PromptRecord], empty: Int
    ) {
        var empty = 0
        let records = try records(
            try readRows(url),
            origin: Origin(
                path: url.path, name: url.lastPathComponent, idStem: url.deletingPathExtension().lastPathComponent),
            filter: filter, empty: &empty)
        return (records, empty)
    }

    /// Rows of a Hugging Face dataset (JSON objects from the datasets-server rows API) read like
    /// the rows of a file; rows whose prompt the server truncated are left out. Errors cite
    /// `hf:<dataset>` and the row's index.
    public static func load(huggingFace rows: [Data], dataset: String, filter: Filter = Filter()) throws -> (
        records: [PromptRecord], truncated: Int, empty: Int
    ) {
        var truncated = 0
        var empty = 0
        var objects: [(line: Int, object: Any)] = []
        for (k, data) in rows.enumerated() {
            guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { continue }
            let index = object["__row_idx"] as? Int ?? k
            if let cells = object["__truncated_cells"] as? [String],
                cells.contains("conversation_a") || cells.contains("prompt")
            {
                truncated += 1
                continue
            }
            objects.append((index, object))
        }
        let origin = Origin(
            path: "hf:" + dataset, name: "hf:" + dataset, idStem: dataset.replacingOccurrences(of: "/", with: "_"))
        let records = try records(objects, origin: origin, filter: filter, rowIndexIsLine: true, empty: &empty)
        return (records, truncated, empty)
    }

    /// Where rows come from: the path errors cite, the name metadata records, the stem of
    /// derived ids.
    struct Origin {
        var path: String
        var name: String
        var idStem: String
    }

    private static func records(
        _ rows: [(line: Int, object: Any)], origin: Origin, filter: Filter, rowIndexIsLine: Bool = false,
        empty: inout Int
    ) throws -> [PromptRecord] {
        var seenText = Set<String>()
        var seenIds = Set<String>()
        var records: [PromptRecord] = []
        for (index, row) in rows.enumerated() {
            guard
                let record = try parse(
                    row.object, index: rowIndexIsLine ? row.line : index, line: row.line, origin: origin,
                    filter: filter,
                    empty: &empty)
            else {
                continue
            }
            if seenIds.contains(record.promptId) {
                throw PipelineError.malformedLine(
                    path: origin.path, line: row.line, detail: "prompt_id '\(record.promptId)' appears twice")
            }
            seenIds.insert(record.promptId)
            guard seenText.insert(record.prompt).inserted else { continue }
            records.append(record)
        }
        if records.isEmpty {
            throw PipelineError.empty(
                path: origin.path, detail: "no usable prompt (after dropping empty, non-English and duplicate ones)")
        }
        return records
    }

    /// A seeded sample of `n` prompts: each prompt gets the key `ItemSeed(seed, "prompts",
    /// prompt_id)` and the `n` smallest keys win, in key order (ties broken by id). The same seed
    /// always ranks prompts the same way, on every platform, so a larger `n` extends a smaller
    /// one's sample instead of redrawing it.
    public static func sample(_ records: [PromptRecord], n: Int, seed: UInt64) -> [PromptRecord] {
        sample(records, n: n, seed: seed, fits: { _ in true }).sample
    }

    /// The sample of `n` prompts that `fits`: the ranking walked in order, a prompt that does
    /// not fit passed over (and counted). A larger `n` still extends a smaller one's sample.
    public static func sample(
        _ records: [PromptRecord], n: Int, seed: UInt64, fits: (PromptRecord) throws -> Bool
    ) rethrows -> (sample: [PromptRecord], passedOver: Int) {
        let ranked = ItemSeed.ranked(records, runSeed: seed) { ("prompts", $0.promptId) }
        var sample: [PromptRecord] = []
        var passedOver = 0
        for record in ranked {
            if sample.count >= n { break }
            if try fits(record) { sample.append(record) } else { passedOver += 1 }
        }
        return (sample, passedOver)
    }

    /// Reads a configured prompt file through, so that a bad one fails before a run directory is
    /// touched (the built-in prompts and a Hugging Face source pass).
    public static func check(_ config: PromptsConfig) throws {
        if let file = config.file { _ = try load(from: file, filter: config.filter) }
    }

    /// The sha256 of a prompt file's bytes ("sha256 <hex>"), or nil for the built-in prompts and
    /// Hugging Face datasets.
    public static func digest(of config: PromptsConfig) throws -> String? {
        guard let url = config.file else { return nil }
        let data: Data
        do {
            data = try Data(contentsOf: url, options: .mappedIfSafe)
        } catch {
            throw PipelineError.unreadable(path: url.path, detail: FileFailure.describe(error))
        }
        return "sha256 " + SHA256.hash(data: data).hex
    }

    /// The built-in prompts, for an offline default run.
    public static var builtin: [PromptRecord] {
        BuiltinPrompts.texts.enumerated().map { index, text in
            PromptRecord(
                promptId: String(format: "builtin_%03d", index), prompt: text,
                metadata: .init(language: "English", sourceRow: index, source: "builtin", questionId: nil))
        }
    }

    private static func readRows(_ url: URL) throws -> [(line: Int, object: Any)] {
        var data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw PipelineError.unreadable(path: url.path, detail: FileFailure.describe(error))
        }
        if data.starts(with: TextCheck.byteOrderMark) { data = data.dropFirst(TextCheck.byteOrderMark.count) }
        if let problem = TextCheck.problem(in: data) {
            throw PipelineError.malformedLine(
                path: url.path, line: problem.line, detail: "column \(problem.column) \(problem.what)")
        }
        let first = data.first { ![0x20, 0x09, 0x0A, 0x0D].contains($0) }
        if first == UInt8(ascii: "[") {
            let array: Any
            do {
                array = try JSONSerialization.jsonObject(with: Data(data))
            } catch {
                throw PipelineError.malformedFile(
                    path: url.path, detail: "not valid JSON: \(error.localizedDescription)")
            }
            guard let rows = array as? [Any] else {
                throw PipelineError.malformedFile(path: url.path, detail: "expected a JSON array of rows")
            }
            return rows.enumerated().map { (line: $0.offset + 1, object: $0.element) }
        }
        return try JSONLines.lines(of: url).map { line in
            var bytes = line.bytes
            if line.number == 1, bytes.starts(with: TextCheck.byteOrderMark) {
                bytes = bytes.dropFirst(TextCheck.byteOrderMark.count)
            }
            do {
                return (line.number, try JSONSerialization.jsonObject(with: Data(bytes), options: .fragmentsAllowed))
            } catch {
                throw PipelineError.malformedLine(path: url.path, line: line.number, detail: "not valid JSON")
            }
        }
    }

    /// One row to a record, or nil when the filter drops it. `line` is what errors cite (the
    /// JSONL line, or the 1-based array position).
    private static func parse(
        _ object: Any, index: Int, line: Int, origin: Origin, filter: Filter, empty: inout Int
    ) throws -> PromptRecord? {
        func bad(_ detail: String) -> PipelineError { .malformedLine(path: origin.path, line: line, detail: detail) }
        guard let row = object as? [String: Any] else { throw bad("expected a JSON object") }
        let language: String?
        switch row["language"] {
        case nil, is NSNull: language = nil
        case let value as String: language = value
        default: throw bad("key 'language' should be a string")
        }
        if filter.englishOnly, let language, language != "English" { return nil }

        let source = origin.name
        if row["conversation_a"] != nil {
            guard let turns = row["conversation_a"] as? [[String: Any]] else {
                throw bad("key 'conversation_a' should be a list of {role, content} objects")
            }
            guard let firstUser = turns.first(where: { ($0["role"] as? String) == "user" }) else {
                throw bad("'conversation_a' has no user turn")
            }
            guard let content = firstUser["content"] as? String else {
                throw bad("the first user turn's 'content' should be a string")
            }
            if let limit = filter.maxModerationScore, let scores = moderationScores(row), scores.max() ?? 0 > limit {
                return nil
            }
            let questionId: String?
            switch row["question_id"] {
            case let value as String: questionId = value
            case let value as NSNumber: questionId = value.stringValue
            default: questionId = nil
            }
            let text = content.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !text.isEmpty else {
                empty += 1
                return nil
            }
            return PromptRecord(
                promptId: "arena_" + (questionId ?? "row\(index)"), prompt: text,
                metadata: .init(language: language, sourceRow: index, source: source, questionId: questionId))
        }
        guard let raw = row["prompt"] else {
            throw bad("neither a 'prompt' nor an Arena 'conversation_a' key")
        }
        guard let prompt = raw as? String else { throw bad("key 'prompt' should be a string") }
        let promptId: String
        switch row["prompt_id"] {
        case nil, is NSNull: promptId = origin.idStem + "_\(index)"
        case let value as String where !value.isEmpty: promptId = value
        default: throw bad("key 'prompt_id' should be a non-empty string")
        }
        let text = prompt.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !text.isEmpty else {
            empty += 1
            return nil
        }
        return PromptRecord(
            promptId: promptId, prompt: text,
            metadata: .init(language: language, sourceRow: index, source: source, questionId: nil))
    }

    private static func moderationScores(_ row: [String: Any]) -> [Double]? {
        guard let moderation = row["openai_moderation"] as? [String: Any],
            let scores = moderation["category_scores"] as? [String: Any]
        else { return nil }
        return scores.values.compactMap { ($0 as? NSNumber)?.doubleValue }
    }
}
