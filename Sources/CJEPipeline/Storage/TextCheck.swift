import Foundation

/// What makes bytes unfit to be read as text: invalid UTF-8, or a NUL byte. Checked before a
/// parser sees them, so that the error names the line and column instead of a parser's
/// generic complaint.
enum TextCheck {
    /// The UTF-8 byte-order mark some editors write at the start of a file (read as nothing).
    static let byteOrderMark: [UInt8] = [0xEF, 0xBB, 0xBF]

    /// The first problem in `bytes`, with its 1-based line and column (in bytes), or nil.
    static func problem(in bytes: some Collection<UInt8>, firstLine: Int = 1) -> (line: Int, column: Int, what: String)?
    {
        var line = firstLine
        var column = 1
        var iterator = bytes.makeIterator()
        var parser = Unicode.UTF8.ForwardParser()
        while true {
            switch parser.parseScalar(from: &iterator) {
            case .valid(let encoded):
                if encoded.count == 1, encoded.first == 0 { return (line, column, "holds a NUL byte") }
                if encoded.count == 1, encoded.first == UInt8(ascii: "\n") {
                    line += 1
                    column = 1
                } else {
                    column += encoded.count
                }
            case .emptyInput:
                return nil
            case .error:
                return (line, column, "is not valid UTF-8 text")
            }
        }
    }
}
