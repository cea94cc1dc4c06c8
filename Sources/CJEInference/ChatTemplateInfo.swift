import Foundation

/// Which chat template renders a model's conversations, and how.
public struct ChatTemplateInfo: Sendable, Hashable, Codable {
    /// Where the template came from: the GGUF file itself, or the config.
    public enum Origin: String, Sendable, Hashable, Codable {
        case model, config
    }

    /// What renders it: llama.cpp's Jinja engine (the template's own source, as llama-server
    /// and transformers render it) or one of llama.cpp's built-in approximations, by name.
    public enum Renderer: String, Sendable, Hashable, Codable {
        case jinja, builtin
    }

    public var origin: Origin
    public var renderer: Renderer
    /// The built-in template's name (`renderer == .builtin`).
    public var name: String?
    /// sha256 of the template's source (of the name, for a built-in one): part of a run's
    /// fingerprint, since it decides every prompt's bytes.
    public var sha256: String
    /// The template calls `strftime_now` (Llama 3.x writes today's date into the system
    /// message): a run renders it with the run's fixed date.
    public var readsDate: Bool
    /// The template accepts a system message; when it does not, the system message is put
    /// before the first user message (as llama-server does).
    public var acceptsSystem: Bool

    public init(
        origin: Origin, renderer: Renderer, name: String?, sha256: String, readsDate: Bool, acceptsSystem: Bool
    ) {
        self.origin = origin
        self.renderer = renderer
        self.name = name
        self.sha256 = sha256
        self.readsDate = readsDate
        self.acceptsSystem = acceptsSystem
    }
}

/// The day a run renders date-reading chat templates with: fixed when the run is created, so a
/// resume or a shard started on another day renders the same bytes.
public struct ChatDate: Sendable, Hashable, Codable, CustomStringConvertible {
    /// `YYYY-MM-DD`.
    public let day: String
    /// Seconds since 1970 at 00:00 UTC of that day (templates format it in UTC).
    public let seconds: Int64

    /// A `YYYY-MM-DD` day from 1970 on; nil for anything else.
    public init?(day: String) {
        let parts = day.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
            let y = Int(parts[0]), let m = Int(parts[1]), let d = Int(parts[2]),
            y >= 1970, y <= 9999, (1...12).contains(m), (1...Self.daysIn(month: m, year: y)).contains(d)
        else { return nil }
        self.day = day
        self.seconds = Int64(Self.daysFromCivil(y, m, d)) * 86_400
    }

    /// The UTC day of `seconds` since 1970.
    public init(seconds since1970: Int64) {
        let days = Int(since1970 >= 0 ? since1970 / 86_400 : (since1970 - 86_399) / 86_400)
        let (y, m, d) = Self.civil(fromDays: days)
        let text = String(format: "%04d-%02d-%02d", y, m, d)
        self.day = text
        self.seconds = Int64(days) * 86_400
    }

    public var description: String { day }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let date = ChatDate(day: text) else {
            throw DecodingError.dataCorrupted(
                .init(codingPath: decoder.codingPath, debugDescription: "'\(text)' is not a day YYYY-MM-DD"))
        }
        self = date
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(day)
    }

    private static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    // Howard Hinnant's days_from_civil and civil_from_days.
    private static func daysFromCivil(_ y0: Int, _ m: Int, _ d: Int) -> Int {
        let y = m <= 2 ? y0 - 1 : y0
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    private static func civil(fromDays z0: Int) -> (Int, Int, Int) {
        let z = z0 + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }
}

extension ChatDate {
    /// Today, in UTC.
    public static var today: ChatDate { ChatDate(seconds: Int64(Date().timeIntervalSince1970)) }
}
