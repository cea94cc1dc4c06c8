import CJEInference
public import Foundation

/// Write failures injected for tests: every journal, output and log write under a folder fails
/// with an errno once that folder has taken a given number of bytes, as a full disk would. The
/// storage code checks it before each write; nothing is injected unless a test asks.
public enum FileFaults {
    private struct Fault {
        var folder: String
        var code: Int32
        var bytesLeft: Int
    }

    private static let faults = LockedValue<[Fault]>([])

    /// Writes under `folder` fail with `code` once `bytesLeft` more bytes would be written
    /// (0: at once).
    public static func inject(under folder: URL, errno code: Int32, afterBytes bytesLeft: Int = 0) {
        let path = folder.standardizedFileURL.path
        faults.update { faults in
            faults.removeAll { $0.folder == path }
            faults.append(Fault(folder: path, code: code, bytesLeft: bytesLeft))
        }
    }

    /// Writes under `folder` work again (space was freed).
    public static func clear(under folder: URL) {
        let path = folder.standardizedFileURL.path
        faults.update { $0.removeAll { $0.folder == path } }
    }

    /// Throws the injected failure when a write of `bytes` to `url` would not fit.
    static func check(_ url: URL, bytes: Int) throws {
        let path = url.standardizedFileURL.path
        let failure: Int32? = faults.access { faults in
            guard let k = faults.firstIndex(where: { path.hasPrefix($0.folder + "/") }) else { return nil }
            if bytes > faults[k].bytesLeft { return faults[k].code }
            faults[k].bytesLeft -= bytes
            return nil
        }
        if let failure { throw POSIXError(POSIXErrorCode(rawValue: failure) ?? .EIO) }
    }
}
