import Foundation

extension Sequence<UInt8> {
    /// Lowercase hexadecimal, two digits a byte (a sha256 as it is written in files and messages).
    var hex: String { map { String(format: "%02x", $0) }.joined() }
}
