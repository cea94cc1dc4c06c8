public import Foundation
import Yams

/// A problem with a config file, naming the file and the key path (e.g. `policies[1].temperature`).
public enum ConfigError: LocalizedError, Sendable, Hashable {
    case unreadable(path: String, detail: String)
    /// Not YAML at all.
    case syntax(path: String, detail: String)
    /// A key the config does not have (usually a typo).
    case unknownKey(path: String, key: String, known: [String])
    /// A value of the wrong type or out of range.
    case invalid(path: String, key: String, reason: String)

    public var errorDescription: String? {
        switch self {
        case .unreadable(let path, let detail):
            return "cannot read config \(path): \(detail)"
        case .syntax(let path, let detail):
            return "config \(path) is not valid YAML: \(detail)"
        case .unknownKey(let path, let key, let known):
            return "config \(path): unknown key '\(key)'. Known keys here: \(known.joined(separator: ", "))."
        case .invalid(let path, let key, let reason):
            return "config \(path): '\(key)' \(reason)"
        }
    }
}

/// Thrown while decoding, turned into a ConfigError with the file name by `PipelineConfig.load`.
struct UnknownConfigKey: Error {
    var path: String
    var known: [String]
}

extension Decoder {
    /// Fails on any key not among `known`: a typo in a config must not be silently ignored.
    func rejectUnknownKeys<K: CodingKey & CaseIterable>(_ known: K.Type) throws {
        let names = K.allCases.map(\.stringValue)
        let container = try container(keyedBy: AnyKey.self)
        if let bad = container.allKeys.first(where: { !names.contains($0.stringValue) }) {
            throw UnknownConfigKey(path: keyPath(codingPath + [bad]), known: names)
        }
    }
}

/// `policies[1].temperature` from a coding path.
func keyPath(_ path: [any CodingKey]) -> String {
    var text = ""
    for key in path {
        if let index = key.intValue {
            text += "[\(index)]"
        } else {
            text += text.isEmpty ? key.stringValue : "." + key.stringValue
        }
    }
    return text.isEmpty ? "(top level)" : text
}

extension ConfigError {
    static func from(_ error: DecodingError, path: String) -> ConfigError {
        switch error {
        case .typeMismatch(let type, let context):
            return .invalid(path: path, key: keyPath(context.codingPath), reason: "should be \(describe(type))")
        case .valueNotFound(let type, let context):
            return .invalid(
                path: path, key: keyPath(context.codingPath), reason: "is empty, expected \(describe(type))")
        case .keyNotFound(let key, let context):
            return .invalid(path: path, key: keyPath(context.codingPath + [key]), reason: "is required")
        case .dataCorrupted(let context):
            if let unknown = context.underlyingError as? UnknownConfigKey {
                return .unknownKey(path: path, key: unknown.path, known: unknown.known)
            }
            if context.codingPath.isEmpty {
                return .syntax(path: path, detail: context.underlyingError.map { "\($0)" } ?? context.debugDescription)
            }
            return .invalid(path: path, key: keyPath(context.codingPath), reason: context.debugDescription)
        @unknown default:
            return .syntax(path: path, detail: "\(error)")
        }
    }

    private static func describe(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: return "a string"
        case is Double.Type: return "a number"
        case is Int.Type, is UInt64.Type: return "a whole number"
        case is Bool.Type: return "true or false"
        case is Node.Scalar.Type: return "a single value (not a list or a mapping)"
        case is Node.Mapping.Type: return "a mapping (key: value lines)"
        case is Node.Sequence.Type: return "a list"
        default: return "\(type)"
        }
    }
}
