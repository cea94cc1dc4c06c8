public import Foundation

/// Everything that can go wrong in the pipeline's own code (files, inputs), with the place it happened.
public enum PipelineError: LocalizedError, Sendable, Hashable {
    /// A file could not be read.
    case unreadable(path: String, detail: String)
    /// A line of a JSONL file is not a JSON object of the expected shape.
    case malformedLine(path: String, line: Int, detail: String)
    /// A JSON file (not JSONL) is malformed.
    case malformedFile(path: String, detail: String)
    /// An input held nothing usable.
    case empty(path: String, detail: String)
    /// A file could not be written.
    case unwritable(path: String, detail: String)
    /// A run directory was made with other settings.
    case fingerprintMismatch(path: String, changes: [String])
    /// A hard validation check failed.
    case validationFailed(failures: [String])
    /// A stage failed on more items than allowed.
    case tooManyFailures(stage: String, failed: Int, total: Int, limit: Double)
    /// A stage names a provider the config does not have.
    case unknownProvider(String)
    /// The configuration asks for something that cannot be computed correctly.
    case impossible(String)
    /// A stage needs an output that no earlier stage of the plan produced.
    case missingInput(type: String, stage: String)
    /// A shard given on the command line or by the scheduler is not one.
    case badShard(String)
    /// The run directory is laid out for another kind of run (sharded or not, other shard count).
    case layoutMismatch(path: String, detail: String)
    /// A merge found shards missing, unfinished, failed or made under other settings.
    case shardsNotMergeable(path: String, problems: [String])
    /// Another invocation holds the run directory (or the shard).
    case locked(path: String, what: String, holders: [String])
    /// The invocation was stopped by a signal; everything finished is journaled.
    case stopped(signal: String)

    public var errorDescription: String? {
        switch self {
        case .unreadable(let path, let detail):
            return "cannot read \(path): \(detail)"
        case .malformedLine(let path, let line, let detail):
            return "\(path):\(line): \(detail)"
        case .malformedFile(let path, let detail):
            return "\(path): \(detail)"
        case .empty(let path, let detail):
            return "\(path): \(detail)"
        case .unwritable(let path, let detail):
            return "cannot write \(path): \(detail)"
        case .fingerprintMismatch(let path, let changes):
            return
                "the run in \(path) was made with other settings (\(changes.joined(separator: "; "))). Resuming would mix results; start a new run with another --dir, or restore the settings."
        case .validationFailed(let failures):
            let shown = failures.prefix(5).joined(separator: "; ")
            return "validation failed (\(failures.count) hard failures): \(shown)\(failures.count > 5 ? "; ..." : "")"
        case .unknownProvider(let name):
            return "no provider named '\(name)' under 'providers' in the config"
        case .impossible(let reason):
            return reason
        case .badShard(let detail):
            return "bad shard: \(detail)"
        case .layoutMismatch(let path, let detail):
            return "\(path): \(detail)"
        case .shardsNotMergeable(let path, let problems):
            return "cannot merge \(path): \(problems.joined(separator: "; "))"
        case .locked(let path, let what, let holders):
            let who = holders.isEmpty ? "another invocation (it did not say who)" : holders.joined(separator: "; ")
            return
                "\(path): \(what) is in use by \(who). One invocation writes a run directory at a time: wait for it to end, or stop it (a stopped run resumes where it was)"
        case .stopped(let signal):
            return "stopped by \(signal); everything finished is saved: run the same command to resume"
        case .missingInput(let type, let stage):
            return
                "internal: a stage needs \(type), which the \(stage) stage produces, but the plan did not run it first"
        case .tooManyFailures(let stage, let failed, let total, let limit):
            return String(
                format:
                    "%@: %d of %d items failed (more than max_failure_rate %.0f%%); they are null in the outputs and will be retried on the next run",
                stage, failed, total, limit * 100)
        }
    }
}
