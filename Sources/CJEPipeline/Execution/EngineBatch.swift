import CJEInference

/// One batch of items on a local engine: the glue every stage that runs a local model needs. A
/// request is made for each item (an item whose request cannot be made fails at once: `failed`),
/// the requests run together (`run`, one of the engine's batch calls), and each result becomes
/// its item's value (`value`), told to `finished` as soon as it is final, so it is journaled at
/// once. Once `stop` is set the engine abandons what has not started (their results are
/// failures). One value per item, in order.
func engineBatch<Request, Outcome, Value>(
    count: Int, stop: StopFlag, finished: (@Sendable (Int, Value) -> Void)?,
    request: (Int) throws -> Request,
    failed: (Int, any Error) -> Value,
    value: @escaping @Sendable (Int, Result<Outcome, any Error>) -> Value,
    run: ([Request], BatchControl<Outcome>) async -> [Result<Outcome, any Error>]
) async -> [Value?] {
    var values = [Value?](repeating: nil, count: count)
    var requests: [Request] = []
    var owners: [Int] = []
    for k in 0..<count {
        do {
            requests.append(try request(k))
            owners.append(k)
        } catch {
            let failure = failed(k, error)
            values[k] = failure
            finished?(k, failure)
        }
    }
    let items = owners
    let control: BatchControl<Outcome> = stop.control { r, result in finished?(items[r], value(items[r], result)) }
    for (r, result) in await run(requests, control).enumerated() { values[items[r]] = value(items[r], result) }
    return values
}
