import CJEInference
import Dispatch
import Foundation

/// SIGINT and SIGTERM during a pipeline command: the first asks the run to stop (no new work;
/// what finished is journaled; the command exits 130 or 143 with the log's last line saying how
/// to resume); a second exits at once.
public final class StopSignals: Sendable {
    private let sources = LockedValue<[any DispatchSourceSignal]>([])

    init(log: RunLog, flag: StopFlag = .process) {
        for (number, name) in [(SIGINT, "SIGINT"), (SIGTERM, "SIGTERM")] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                if flag.isRequested {
                    log.info("\(name) again: exiting now; what was in flight is done again on the next run")
                    _exit(Self.exitCode(name))
                }
                flag.request(name)
                log.info(
                    "\(name): stopping - no new work is taken, what finished is saved (send it again to exit at once)")
            }
            source.resume()
            sources.update { $0.append(source) }
        }
    }

    /// Back to the default actions.
    func cancel() {
        let made = sources.access { made in
            defer { made = [] }
            return made
        }
        for source in made { source.cancel() }
        signal(SIGINT, SIG_DFL)
        signal(SIGTERM, SIG_DFL)
    }

    /// 128 + the signal's number, as a shell reports a process the signal ended.
    public static func exitCode(_ name: String) -> Int32 { name == "SIGINT" ? 128 + SIGINT : 128 + SIGTERM }
}
