import CJEInference
import Foundation
import Testing

@Suite("The run's chat-template day")
struct ChatDateTests {
    @Test("days parse to midnight UTC and back", arguments: ["1970-01-01", "2000-02-29", "2024-12-31", "2026-12-02"])
    func roundTrip(day: String) throws {
        let date = try #require(ChatDate(day: day))
        #expect(date.day == day)
        #expect(ChatDate(seconds: date.seconds) == date)
        #expect(ChatDate(seconds: date.seconds + 86_399) == date)
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let parts = day.split(separator: "-").map { Int($0)! }
        let expected = calendar.date(from: DateComponents(year: parts[0], month: parts[1], day: parts[2]))!
        #expect(Double(date.seconds) == expected.timeIntervalSince1970)
    }

    @Test(
        "anything but a real day is refused", arguments: ["2026-02-29", "2026-13-01", "2026-1-01", "26-01-01", "", "x"])
    func refused(text: String) {
        #expect(ChatDate(day: text) == nil)
    }

    @Test("it is stored as the day's text")
    func coding() throws {
        let date = try #require(ChatDate(day: "2025-07-26"))
        let data = try JSONEncoder().encode([date])
        #expect(String(decoding: data, as: UTF8.self) == #"["2025-07-26"]"#)
        #expect(try JSONDecoder().decode([ChatDate].self, from: data) == [date])
        #expect(throws: DecodingError.self) { try JSONDecoder().decode([ChatDate].self, from: Data(#"["soon"]"#.utf8)) }
    }
}
