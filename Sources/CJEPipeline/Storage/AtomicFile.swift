import CJEInference
public import Foundation

/// Writes a whole file under a temporary name in the same folder, syncs it, then renames it
/// into place: readers see the old file or the new one, never half of one.
public enum AtomicFile {
    public static func write(_ data: Data, to url: URL) throws {
        let folder = url.deletingLastPathComponent()
        let temp = folder.appendingPathComponent(
            ".\(url.lastPathComponent).tmp-\(ProcessInfo.processInfo.processIdentifier)")
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            guard FileManager.default.createFile(atPath: temp.path, contents: nil) else {
                throw PipelineError.unwritable(
                    path: url.path,
                    detail: "cannot create \(temp.lastPathComponent): \(FileFailure.describe(errno: errno))")
            }
            let handle = try FileHandle(forWritingTo: temp)
            defer { try? handle.close() }
            try FileFaults.check(url, bytes: data.count)
            try handle.write(contentsOf: data)
            try handle.synchronize()
            if rename(temp.path, url.path) != 0 {
                throw PipelineError.unwritable(path: url.path, detail: FileFailure.describe(errno: errno))
            }
        } catch let error as PipelineError {
            try? FileManager.default.removeItem(at: temp)
            throw error
        } catch {
            try? FileManager.default.removeItem(at: temp)
            throw PipelineError.unwritable(path: url.path, detail: FileFailure.describe(error))
        }
    }
}
