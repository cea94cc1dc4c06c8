import CJEInference

/// Runs `work` over `items` with every item in flight at once (a provider client bounds the
/// concurrency), keeping order; `finished(k, value)` is told as each item is done. An error that
/// stops the stage (401, unset key, budget) ends the batch: it is returned beside the values of
/// the items that finished; the others are nil. Once `stop` is set, items not started yet are
/// not started (nil); those in flight finish.
func concurrently<Item: Sendable, Value: Sendable>(
    _ items: [Item], stop: StopFlag, finished: (@Sendable (Int, Value) -> Void)? = nil,
    _ work: @escaping @Sendable (Item) async throws -> Value
) async -> BatchResult<Value> {
    await withTaskGroup(of: (Int, Result<Value, any Error>?).self) { group in
        for (k, item) in items.enumerated() {
            group.addTask {
                if stop.isRequested { return (k, nil) }
                do {
                    let value = try await work(item)
                    finished?(k, value)
                    return (k, .success(value))
                } catch {
                    return (k, .failure(error))
                }
            }
        }
        var values = [Value?](repeating: nil, count: items.count)
        var failure: (any Error)?
        for await (k, result) in group {
            switch result {
            case .success(let value): values[k] = value
            case .failure(let error): failure = failure ?? error
            case nil: break
            }
        }
        return BatchResult(values: values, stop: failure)
    }
}

/// An error that fails one item, as it is; rethrows one that stops the stage (401, an unset
/// key, the budget) or a cancellation.
func itemFailure(_ error: any Error) throws -> any Error {
    if FailureKind(of: error) == .fatal { throw error }
    if error is CancellationError { throw error }
    return error
}
