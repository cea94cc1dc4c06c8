import CJEInference
import Foundation
import Testing

@Suite("sha256 without a crypto library")
struct SHA256Tests {
    /// FIPS 180-4's examples (NIST CSRC "SHA256.pdf", "SHA2_Additional.pdf").
    @Test(
        "the standard's vectors",
        arguments: [
            ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
            ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
            (
                "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
                "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
            ),
            (
                "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
                "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"
            ),
        ])
    func vectors(text: String, digest: String) {
        #expect(Checksum.sha256(Data(text.utf8)) == digest)
    }

    @Test("a million a's, fed in uneven pieces, and every length around a block's padding")
    func pieces() {
        var hasher = SHA256()
        let million = Data(repeating: 0x61, count: 1_000_000)
        var offset = 0
        for size in [1, 63, 64, 65, 127, 4096, 1_000_000] where offset < million.count {
            let end = min(million.count, offset + size)
            hasher.update(data: million[offset..<end])
            offset = end
        }
        #expect(offset == million.count)
        #expect(hasher.finalize().hex == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
        // The same bytes in one piece and one byte at a time agree at every length 0...130
        // (one and two blocks of padding, a length field that straddles a block).
        let bytes = Data((0..<130).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) })
        for length in 0...bytes.count {
            var single = SHA256()
            for byte in bytes.prefix(length) { single.update(data: Data([byte])) }
            #expect(single.finalize() == SHA256.hash(data: bytes.prefix(length)), "length \(length)")
        }
    }

    @Test("a file's digest is sha256sum's")
    func file() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("sha-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: url) }
        // Larger than one 4 MiB read, not a multiple of 64.
        let count: Int = (9 << 20) + 13
        var bytes = [UInt8](repeating: 0, count: count)
        for index in 0..<count { bytes[index] = UInt8(truncatingIfNeeded: (index &* 7919) >> 3) }
        try Data(bytes).write(to: url)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["sha256sum", url.path]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(try Checksum.sha256(of: url) == String(output.prefix(64)))
    }
}
