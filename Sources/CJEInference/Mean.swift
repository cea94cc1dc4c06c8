extension Collection<Double> {
    /// The arithmetic mean, summed in order (nil when empty).
    public var mean: Double? { isEmpty ? nil : reduce(0, +) / Double(count) }
}
