import CJEInference
import Foundation

actor UsageCounter {
    private(set) var usage = ProviderUsage()

    func update(_ body: (inout ProviderUsage) -> Void) { body(&usage) }
}

/// Money spent over every provider of a run, against an optional budget. Synchronous, so a
/// progress line can read it.
public final class SpendLedger: Sendable {
    public let budget: Double?
    private let total: LockedValue<Double>

    /// `spent`: what earlier invocations of the run already spent.
    public init(budget: Double?, spent: Double = 0) {
        self.budget = budget
        total = LockedValue(spent)
    }

    public var spent: Double { total.current }

    /// Adds what a call cost.
    public func add(_ cost: Double) { total.update { $0 += cost } }

    /// Throws once the budget is used up: no new request may start.
    public func check() throws {
        let spent = self.spent
        if let budget, spent >= budget { throw ProviderError.budgetExhausted(spent: spent, budget: budget) }
    }
}
