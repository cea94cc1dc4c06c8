public import Foundation

/// What a failed item means for the work around it. It travels with the failure from where it
/// is caught to the item's journal entry, so no stage has to read another module's error text.
public enum FailureKind: String, Codable, Sendable, Hashable {
    /// May go otherwise on a later attempt (a timeout, a 5xx, a dropped connection): retried
    /// on a later run, up to `max_attempts`.
    case transient
    /// A property of the item's input on this model (a prompt too long for a sequence, a
    /// conversation the chat template cannot render): it would fail the same way again, so it
    /// is never retried.
    case permanent
    /// Every further item would fail the same way (no key, a refused key, the budget spent): the
    /// stage stops at once instead of failing each item.
    case fatal

    /// The kind of `error`: its own when it says (`ClassifiedError`), else transient.
    public init(of error: any Error) {
        self = (error as? any ClassifiedError)?.failureKind ?? .transient
    }

    /// What an item's journaled value keeps of a failure's kind: `.permanent`, or nothing (a
    /// value without a kind is retried, as every value journaled before kinds were kept is).
    public static func recorded(_ kind: FailureKind) -> FailureKind? { kind == .permanent ? .permanent : nil }
}

/// An error that knows what kind of failure it is.
public protocol ClassifiedError: Error {
    var failureKind: FailureKind { get }
}

/// An item's failure as the place that catches it words and classifies it (e.g. a prompt the
/// chat template could not render: permanent), with the message the outputs show.
public struct ItemFailure: ClassifiedError, LocalizedError, Sendable {
    public let message: String
    public let failureKind: FailureKind
    public var errorDescription: String? { message }
    public init(_ message: String, kind: FailureKind = .transient) {
        self.message = message
        failureKind = kind
    }
}
