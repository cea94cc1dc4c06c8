import CJEProviders
import CJEInference
import Foundation

/// Progress of a stage: done so far, total, failures so far.
public typealias StageProgress = @Sendable (_ done: Int, _ total: Int, _ failed: Int) -> Void

/// Progress lines: done/total, failures, rate and ETA over the items done in this invocation.
/// The console gets one every `interval` seconds and the last; the log gets all. With a spend
/// ledger, the line also shows what the run has spent (and the budget).
struct ProgressPrinter: Sendable {
    let stage: String
    let ledger: SpendLedger?
    let interval: TimeInterval
    let say: @Sendable (String) -> Void
    let debug: @Sendable (String) -> Void

    /// A fresh callback: its rate counts from now and from the first count it is given.
    func callback() -> StageProgress {
        let started = Date()
        let first = LockedValue<Int?>(nil)
        let lastShown = LockedValue<Date?>(nil)
        return { done, total, failed in
            let now = Date()
            let elapsed = now.timeIntervalSince(started)
            let base = first.update { $0 = $0 ?? done + failed } ?? 0
            let rate = elapsed > 0 ? Double(done + failed - base) / elapsed : 0
            let left = total - done - failed
            let eta = left == 0 ? "0 s" : rate > 0 ? String(format: "%.0f s", Double(left) / rate) : "?"
            var line = String(
                format: "%@: %d/%d done, %d failed, %.2f items/s, ETA %@", stage, done, total, failed, rate, eta)
            if let ledger {
                line += String(format: ", spent %.4f", ledger.spent)
                if let budget = ledger.budget { line += String(format: " of %.4f", budget) }
            }
            var show = false
            _ = lastShown.update { shown in
                if left == 0 || shown.map({ now.timeIntervalSince($0) >= interval }) ?? true {
                    show = true
                    shown = now
                }
            }
            if show { say(line) } else { debug(line) }
        }
    }
}
