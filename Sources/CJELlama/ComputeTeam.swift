import Foundation

/// Work between two decode calls (sampling, log-softmax of output rows) spread over the threads
/// that llama.cpp computes with.
///
/// llama.cpp's CPU backend runs each graph on an OpenMP team whose workers spin for a while after
/// the graph is done, waiting for the next one. Rows handed to other threads (a dispatch queue)
/// then share the cores with those spinning workers and gain little; handed to the same team
/// (libgomp's `GOMP_parallel`, from the llama thread, which is the team's master) they use the
/// cores the workers hold. Where llama.cpp is built without OpenMP (no libgomp in the process), a
/// dispatch queue's threads do it. Each index is computed by one thread, so how the work is
/// split changes no result.
enum ComputeTeam {
    private typealias Task = @convention(c) (UnsafeMutableRawPointer?) -> Void
    private typealias Parallel = @convention(c) (Task, UnsafeMutableRawPointer?, UInt32, UInt32) -> Void
    private typealias ThreadNumber = @convention(c) () -> Int32

    /// libgomp's entry points, when the process has them.
    private static let openMP: (parallel: Parallel, threadNumber: ThreadNumber)? = {
        guard let process = dlopen(nil, RTLD_NOW), let parallel = dlsym(process, "GOMP_parallel"),
            let threadNumber = dlsym(process, "omp_get_thread_num")
        else { return nil }
        return (unsafeBitCast(parallel, to: Parallel.self), unsafeBitCast(threadNumber, to: ThreadNumber.self))
    }()

    /// Calls `body(index, worker)` for every index in `0..<count`, on `threads` threads at most
    /// (worker is the thread's number in `0..<threads`, for per-thread scratch memory), and
    /// returns when all are done.
    static func forEach(_ count: Int, threads: Int, _ body: (_ index: Int, _ worker: Int) -> Void) {
        let workers = max(1, min(threads, count))
        guard workers > 1 else {
            for index in 0..<count { body(index, 0) }
            return
        }
        withoutActuallyEscaping(body) { body in
            let job = Job(count: count, workers: workers, body: body)
            if let openMP {
                job.threadNumber = openMP.threadNumber
                let pointer = Unmanaged.passRetained(job).toOpaque()
                openMP.parallel(runJob, pointer, UInt32(workers), 0)
                Unmanaged<Job>.fromOpaque(pointer).release()
            } else {
                DispatchQueue.concurrentPerform(iterations: workers) { job.run(worker: $0) }
            }
        }
    }

    /// One `forEach` call's work, shared read-only by its threads.
    ///
    /// Invariant for `@unchecked Sendable`: nothing in it changes while its threads run, and
    /// `body` writes only what belongs to the index it is given.
    private final class Job: @unchecked Sendable {
        let count: Int
        let workers: Int
        let body: (Int, Int) -> Void
        var threadNumber: ThreadNumber?

        init(count: Int, workers: Int, body: @escaping (Int, Int) -> Void) {
            self.count = count
            self.workers = workers
            self.body = body
        }

        func run(worker: Int) {
            var index = worker
            while index < count {
                body(index, worker)
                index += workers
            }
        }
    }

    /// The function every thread of the OpenMP team runs.
    private static let runJob: Task = { pointer in
        guard let pointer else { return }
        let job = Unmanaged<Job>.fromOpaque(pointer).takeUnretainedValue()
        job.run(worker: Int(job.threadNumber?() ?? 0))
    }
}
