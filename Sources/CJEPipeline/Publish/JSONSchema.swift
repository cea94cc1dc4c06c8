import Foundation

/// The type of a JSON Lines file's rows over every row, written as the `features` of a dataset
/// card: `datasets` reads a large file in blocks and types each block on its own, so a field that
/// is null in the first block and a string later fails to load unless the card declares it.
indirect enum JSONSchema: Equatable {
    case null, bool, int, double, string
    case object([(name: String, type: JSONSchema)])
    case list(JSONSchema)

    static func == (a: JSONSchema, b: JSONSchema) -> Bool {
        switch (a, b) {
        case (.null, .null), (.bool, .bool), (.int, .int), (.double, .double), (.string, .string): return true
        case (.list(let x), .list(let y)): return x == y
        case (.object(let x), .object(let y)):
            return x.count == y.count && zip(x, y).allSatisfy { $0.name == $1.name && $0.type == $1.type }
        default: return false
        }
    }

    /// One JSON value's type.
    init(of value: JSONValue) {
        switch value {
        case .null: self = .null
        case .bool: self = .bool
        case .int: self = .int
        case .double: self = .double
        case .string: self = .string
        case .array(let items): self = .list(items.map(JSONSchema.init(of:)).reduce(.null) { $0.merged($1) })
        case .object(let fields): self = .object(fields.map { ($0.key, JSONSchema(of: $0.value)) })
        }
    }

    /// The type both `self` and `other` fit: null gives way to anything, an integer to a double,
    /// objects merge field by field (a field one lacks is null there); anything else is text.
    func merged(_ other: JSONSchema) -> JSONSchema {
        switch (self, other) {
        case (.null, let x), (let x, .null): return x
        case (.int, .double), (.double, .int): return .double
        case (.list(let x), .list(let y)): return .list(x.merged(y))
        case (.object(let x), .object(let y)):
            var fields = x
            for (name, type) in y {
                if let k = fields.firstIndex(where: { $0.name == name }) {
                    fields[k].type = fields[k].type.merged(type)
                } else {
                    fields.append((name, type))
                }
            }
            return .object(fields)
        default: return self == other ? self : .string
        }
    }

    /// The rows' type: every line of `data` merged.
    static func of(lines data: Data) throws -> JSONSchema {
        var schema = JSONSchema.null
        let decoder = JSONDecoder()
        for line in data.split(separator: 0x0A) where !line.isEmpty {
            schema = schema.merged(JSONSchema(of: try decoder.decode(JSONValue.self, from: Data(line))))
        }
        return schema
    }

    /// The card's `features:` list for rows of this type, indented by `indent` spaces.
    func features(indent: Int) -> [String] {
        guard case .object(let fields) = self else { return [] }
        return fields.sorted { $0.name < $1.name }.flatMap { Self.feature($0.name, $0.type, indent: indent) }
    }

    private static func feature(_ name: String, _ type: JSONSchema, indent: Int) -> [String] {
        let pad = String(repeating: " ", count: indent)
        let quoted = String(decoding: (try? JSONEncoder().encode(name)) ?? Data("\"\"".utf8), as: UTF8.self)
        return ["\(pad)- name: \(quoted)"] + type.body(indent: indent + 2)
    }

    /// A scalar's dtype as the card writes it (nil for an object or a list).
    private var dtype: String? {
        switch self {
        case .null: return "'null'"
        case .bool: return "bool"
        case .int: return "int64"
        case .double: return "float64"
        case .string: return "string"
        case .object, .list: return nil
        }
    }

    /// What follows a feature's name: its dtype, struct or list.
    private func body(indent: Int) -> [String] {
        let pad = String(repeating: " ", count: indent)
        switch self {
        case .object(let fields) where fields.isEmpty: return ["\(pad)struct: []"]
        case .object: return ["\(pad)struct:"] + features(indent: indent)
        case .list(let element):
            if case .object(let fields) = element, !fields.isEmpty {
                return ["\(pad)list:"] + element.features(indent: indent)
            }
            return ["\(pad)list: \(element.dtype ?? "string")"]
        default: return ["\(pad)dtype: \(dtype ?? "string")"]
        }
    }
}

/// A JSON value, read strictly: `true` is a bool and `1` a number, never the other.
enum JSONValue: Decodable {
    case null, bool(Bool), int(Int64), double(Double), string(String)
    case array([JSONValue])
    case object([(key: String, value: JSONValue)])

    init(from decoder: any Decoder) throws {
        if var array = try? decoder.unkeyedContainer() {
            var items: [JSONValue] = []
            while !array.isAtEnd { items.append(try array.decode(JSONValue.self)) }
            self = .array(items)
        } else if let object = try? decoder.container(keyedBy: AnyKey.self) {
            self = .object(try object.allKeys.map { ($0.stringValue, try object.decode(JSONValue.self, forKey: $0)) })
        } else {
            let single = try decoder.singleValueContainer()
            if single.decodeNil() {
                self = .null
            } else if let value = try? single.decode(Bool.self) {
                self = .bool(value)
            } else if let value = try? single.decode(Int64.self) {
                self = .int(value)
            } else if let value = try? single.decode(Double.self) {
                self = .double(value)
            } else {
                self = .string(try single.decode(String.self))
            }
        }
    }
}
