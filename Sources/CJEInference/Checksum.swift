public import Foundation

extension Sequence<UInt8> {
    /// Lowercase hexadecimal, two digits a byte (a sha256 as it is written in files and messages).
    public var hex: String {
        let digits = Array("0123456789abcdef".utf8)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(underestimatedCount * 2)
        for byte in self {
            bytes.append(digits[Int(byte >> 4)])
            bytes.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// sha256 digests as the project writes them: lowercase hex.
public enum Checksum {
    /// sha256 of `data`.
    public static func sha256(_ data: Data) -> String { SHA256.hash(data: data).hex }

    /// sha256 of a file, read in 4 MiB chunks (a model file is gigabytes).
    public static func sha256(of url: URL) throws -> String {
        let handle = try FileHandle(forReadingFrom: url)
        defer { try? handle.close() }
        var hasher = SHA256()
        while let chunk = try handle.read(upToCount: 4 << 20), !chunk.isEmpty { hasher.update(data: chunk) }
        return hasher.finalize().hex
    }
}
