import CJEInference
import Foundation

/// The one thread on which every engine of the process runs llama.cpp's work.
///
/// llama.cpp's CPU backend computes each graph on an OpenMP team whose master is the calling
/// thread, and libgomp keeps a pool of worker threads for every thread that has been a master.
/// Engines that decoded from a dispatch queue's workers and from Swift's cooperative threads left
/// several pools alive; libgomp then counts more threads than CPUs, stops spinning between
/// parallel regions and puts its workers to sleep, so every decode waited for them to wake
/// (measured here, SmolLM2 on 2 cores: one sequence generated 62-78 tok/s after the judge had run
/// on other threads, 161 alone). With one thread as the only master there is one pool.
/// Thread counts and this hand-off change no result.
final class LlamaThread: Sendable {
    static let shared = LlamaThread()

    private let state = LockedValue(State())
    private let wake = DispatchSemaphore(value: 0)

    private struct State {
        var jobs: [@Sendable () -> Void] = []
        var started = false
        var thread: pthread_t?
    }

    private init() {}

    /// True on the llama thread itself.
    var isCurrent: Bool {
        guard let thread = state.current.thread else { return false }
        return pthread_equal(thread, pthread_self()) != 0
    }

    /// Runs `job` on the llama thread after the jobs before it.
    func submit(_ job: @escaping @Sendable () -> Void) {
        let start = state.access { state in
            state.jobs.append(job)
            defer { state.started = true }
            return !state.started
        }
        if start {
            let thread = Thread { [self] in serve() }
            thread.name = "cje-prep.llama"
            thread.stackSize = 16 << 20
            thread.start()
        }
        wake.signal()
    }

    /// Runs `body` on the llama thread and waits for its value (directly when already on it).
    func run<T>(_ body: () -> T) -> T {
        if isCurrent { return body() }
        return withoutActuallyEscaping(body) { body in
            let handoff = Handoff(body)
            let done = DispatchSemaphore(value: 0)
            submit {
                handoff.run()
                done.signal()
            }
            done.wait()
            return handoff.take()
        }
    }

    private func serve() -> Never {
        state.update { $0.thread = pthread_self() }
        while true {
            wake.wait()
            let job = state.access { $0.jobs.removeFirst() }
            job()
        }
    }
}

/// A closure and its value carried to the llama thread and back by a caller that blocks until
/// it has run.
///
/// Invariant for `@unchecked Sendable`: the caller touches it only before `submit` and after
/// the job signalled it is done; the llama thread only in between.
private final class Handoff<T>: @unchecked Sendable {
    private var body: (() -> T)?
    private var value: T?

    init(_ body: @escaping () -> T) { self.body = body }

    /// Runs the closure once and lets go of it before the caller is told, so that it has not
    /// escaped when the caller's `withoutActuallyEscaping` ends.
    func run() {
        value = body?()
        body = nil
    }

    func take() -> T {
        guard let value else { preconditionFailure("the llama thread did not run the job") }
        return value
    }
}
