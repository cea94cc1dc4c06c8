/// One shard of a run split over `count` machines (0-based `index`). The run's prompt sample is
/// computed whole by every shard (the same seeded ranking as an unsharded run); shard K takes
/// the prompts at ranks K, K + M, K + 2M, ... of it. The slices are balanced, disjoint, cover the
/// sample, and keep their prompts when N grows (the ranking's prefix does not change).
public struct Shard: Codable, Sendable, Hashable, CustomStringConvertible {
    public let index: Int
    public let count: Int

    /// A shard; `index` must be in 0..<count and `count` at least 1.
    public init(index: Int, count: Int) throws {
        guard count >= 1 else { throw PipelineError.badShard("the shard count must be at least 1 (got \(count))") }
        guard (0..<count).contains(index) else {
            throw PipelineError.badShard(
                "shard \(index) does not exist in a run of \(count) shard\(count == 1 ? "" : "s") (0 to \(count - 1))")
        }
        self.index = index
        self.count = count
    }

    /// `K/M`, as `--shard` takes it.
    public static func parse(_ text: String) throws -> Shard {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let index = Int(parts[0]), let count = Int(parts[1]) else {
            throw PipelineError.badShard("'\(text)' is not K/M (shard K, counted from 0, of M), e.g. 0/3")
        }
        return try Shard(index: index, count: count)
    }

    /// The shard a scheduler gave this process, and where it came from: a Slurm job array
    /// (`SLURM_ARRAY_TASK_ID` with `SLURM_ARRAY_TASK_COUNT`, or the array's `_MIN`/`_MAX`; the
    /// array must be contiguous, e.g. `--array=0-2`), or a Kubernetes Indexed Job
    /// (`JOB_COMPLETION_INDEX`, with the count from `count` or `CJE_SHARDS`). Nil outside both.
    public static func fromEnvironment(_ environment: [String: String], count: Int?) throws -> (
        shard: Shard, source: String
    )? {
        func number(_ name: String) throws -> Int? {
            guard let text = environment[name], !text.isEmpty else { return nil }
            guard let value = Int(text) else { throw PipelineError.badShard("\(name)='\(text)' is not a number") }
            return value
        }
        if let id = try number("SLURM_ARRAY_TASK_ID") {
            let low = try number("SLURM_ARRAY_TASK_MIN") ?? 0
            guard
                let total = try number("SLURM_ARRAY_TASK_COUNT") ?? number("SLURM_ARRAY_TASK_MAX").map({ $0 - low + 1 })
            else {
                throw PipelineError.badShard(
                    "SLURM_ARRAY_TASK_ID is set but neither SLURM_ARRAY_TASK_COUNT nor SLURM_ARRAY_TASK_MAX is")
            }
            do {
                return (try Shard(index: id - low, count: total), "SLURM_ARRAY_TASK_ID=\(id) of \(total) tasks")
            } catch {
                throw PipelineError.badShard(
                    "Slurm array task \(id) (array from \(low), \(total) tasks) is not a shard: submit the array as a contiguous range, e.g. --array=0-\(total - 1)"
                )
            }
        }
        if let index = try number("JOB_COMPLETION_INDEX") {
            guard let total = try count ?? number("CJE_SHARDS") else {
                throw PipelineError.badShard(
                    "JOB_COMPLETION_INDEX=\(index) is set but not the number of shards: pass --shards M or set CJE_SHARDS (the Job's completions)"
                )
            }
            return (try Shard(index: index, count: total), "JOB_COMPLETION_INDEX=\(index) of \(total)")
        }
        return nil
    }

    /// Whether the prompt at `rank` of the seeded sample is this shard's.
    public func owns(rank: Int) -> Bool { rank % count == index }

    /// The shard's folder under the run's `shards/`: `K-of-M`.
    public var name: String { "\(index)-of-\(count)" }

    /// `K/M`.
    public var description: String { "\(index)/\(count)" }

    /// The shard named by a folder of `shards/` (`K-of-M`), if it is one.
    public init?(folderName: String) {
        let parts = folderName.split(separator: "-")
        guard parts.count == 3, parts[1] == "of", let index = Int(parts[0]), let count = Int(parts[2]),
            let shard = try? Shard(index: index, count: count), shard.name == folderName
        else { return nil }
        self = shard
    }
}
