import CJEInference

/// Console lines seen, from any thread.
public final class Lines: Sendable {
    private let lines = LockedValue<[String]>([])
    public init() {}
    public func add(_ line: String) { lines.update { $0.append(line) } }
    public var all: [String] { lines.current }
}
