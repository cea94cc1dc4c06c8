import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The cause of a failed file operation in words a user acts on: "No space left on device
/// (ENOSPC)", "Read-only file system (EROFS)", rather than Foundation's generic wording.
public enum FileFailure {
    /// The POSIX cause inside a Foundation error, when there is one; else its description.
    public static func describe(_ error: any Error) -> String {
        if let code = posixCode(error) { return describe(errno: code) }
        return error.localizedDescription
    }

    public static func describe(errno code: Int32) -> String {
        let name = names[code].map { " (\($0))" } ?? ""
        return String(cString: strerror(code)) + name
    }

    public static func posixCode(_ error: any Error) -> Int32? {
        if let error = error as? POSIXError { return error.code.rawValue }
        let ns = error as NSError
        if ns.domain == NSPOSIXErrorDomain { return Int32(ns.code) }
        if let underlying = ns.userInfo[NSUnderlyingErrorKey] as? any Error { return posixCode(underlying) }
        if ns.domain == NSCocoaErrorDomain {
            switch ns.code {
            case NSFileWriteOutOfSpaceError: return ENOSPC
            case NSFileWriteVolumeReadOnlyError: return EROFS
            case NSFileWriteNoPermissionError, NSFileReadNoPermissionError: return EACCES
            default: return nil
            }
        }
        return nil
    }

    private static let names: [Int32: String] = [
        ENOSPC: "ENOSPC", EIO: "EIO", EROFS: "EROFS", EACCES: "EACCES", EPERM: "EPERM", EDQUOT: "EDQUOT",
        ENOENT: "ENOENT", ENOTDIR: "ENOTDIR", EISDIR: "EISDIR", EFBIG: "EFBIG", EMFILE: "EMFILE",
    ]
}
