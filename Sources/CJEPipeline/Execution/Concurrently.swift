import CJEProviders

/// Runs `work` over `items` with every item in flight at once (a provider client bounds the
/// concurrency), keeping order. An error that stops the stage (401, unset key, budget) ends the
/// batch: it is returned beside the values of the items that finished; the others are nil.
func concurrently<Item: Sendable, Value: Sendable>(
    _ items: [Item], _ work: @escaping @Sendable (Item) async throws -> Value
) async -> BatchResult<Value> {
    await withTaskGroup(of: (Int, Result<Value, any Error>).self) { group in
        for (k, item) in items.enumerated() {
            group.addTask {
                do { return (k, .success(try await work(item))) } catch { return (k, .failure(error)) }
            }
        }
        var values = [Value?](repeating: nil, count: items.count)
        var stop: (any Error)?
        for await (k, result) in group {
            switch result {
            case .success(let value): values[k] = value
            case .failure(let error): stop = stop ?? error
            }
        }
        return BatchResult(values: values, stop: stop)
    }
}

/// The message of an error that fails one item; rethrows one that stops the stage (401, an
/// unset key, the budget) or a cancellation.
func itemFailure(_ error: any Error) throws -> String {
    if let error = error as? ProviderError, error.stopsStage { throw error }
    if error is CancellationError { throw error }
    return error.localizedDescription
}
