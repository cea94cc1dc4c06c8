/// One item a stage owes: its key, the lane it runs on and what working it needs.
public struct StageItem<Payload: Sendable>: Sendable {
    public var key: ItemKey
    public var lane: Lane
    public var payload: Payload

    public init(key: ItemKey, lane: Lane, payload: Payload) {
        self.key = key
        self.lane = lane
        self.payload = payload
    }
}
