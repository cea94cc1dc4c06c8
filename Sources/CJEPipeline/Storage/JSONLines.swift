import CJEInference
public import Foundation

/// JSONL: one UTF-8 JSON object per `\n`-terminated line. Readers report 1-based line numbers.
public enum JSONLines {
    /// One line of a file: its 1-based number and bytes (without the newline).
    public struct Line: Sendable {
        public var number: Int
        public var bytes: Data
    }

    /// What to do with a last line that has no terminating newline.
    public enum UnterminatedLastLine: Sendable {
        /// Keep it: input files written by other tools often end without a newline.
        case keep
        /// Drop it: in a journal it is a write torn by a crash, to be redone.
        case drop
    }

    /// The non-blank lines of a file.
    public static func lines(of url: URL, unterminated: UnterminatedLastLine = .keep) throws -> [Line] {
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw PipelineError.unreadable(path: url.path, detail: FileFailure.describe(error))
        }
        var result: [Line] = []
        var start = data.startIndex
        var number = 0
        while start < data.endIndex {
            number += 1
            let end = data[start...].firstIndex(of: UInt8(ascii: "\n"))
            if end == nil, unterminated == .drop { break }
            var slice = data[start..<(end ?? data.endIndex)]
            if slice.last == UInt8(ascii: "\r") { slice = slice.dropLast() }
            if !slice.allSatisfy({ $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }) {
                result.append(Line(number: number, bytes: Data(slice)))
            }
            guard let end else { break }
            start = data.index(after: end)
        }
        return result
    }

    /// Decodes every line as `T`; a bad line is an error naming the file and line.
    public static func decode<T: Decodable>(
        _ type: T.Type, from url: URL, unterminated: UnterminatedLastLine = .keep
    ) throws -> [T] {
        let decoder = JSONDecoder()
        return try lines(of: url, unterminated: unterminated).map { line in
            do {
                return try decoder.decode(T.self, from: line.bytes)
            } catch {
                throw PipelineError.malformedLine(path: url.path, line: line.number, detail: describe(error))
            }
        }
    }

    /// Encodes values as JSONL: sorted keys, no escaped slashes, one `\n` after each.
    public static func encode<T: Encodable>(_ values: [T]) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var data = Data()
        for value in values {
            data.append(try encoder.encode(value))
            data.append(UInt8(ascii: "\n"))
        }
        return data
    }

    /// A short, person-readable account of a decoding error (which key, what was wrong).
    static func describe(_ error: any Error) -> String {
        guard let error = error as? DecodingError else { return "not valid JSON: \(error.localizedDescription)" }
        func path(_ context: DecodingError.Context) -> String {
            let keys = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }
            return keys.isEmpty ? "the line" : "key '\(keys.joined(separator: "."))'"
        }
        switch error {
        case .keyNotFound(let key, let context):
            let parent = path(context)
            return "missing key '\(key.stringValue)'" + (context.codingPath.isEmpty ? "" : " in \(parent)")
        case .typeMismatch(let type, let context):
            return "\(path(context)) should be \(type)"
        case .valueNotFound(let type, let context):
            return "\(path(context)) is null, expected \(type)"
        case .dataCorrupted(let context):
            return context.codingPath.isEmpty ? "not valid JSON" : "\(path(context)): \(context.debugDescription)"
        @unknown default:
            return "\(error)"
        }
    }
}
