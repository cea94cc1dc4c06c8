import CJEInference
import CJEPipeline
import CJETestSupport
import Foundation
import Testing

@Suite("The run directory's chat-template day")
struct ChatDateFileTests {
    @Test("the first invocation fixes the day; later ones on other days read it")
    func fixedOnce() throws {
        let run = RunDirectory(root: temporaryDirectory("chat-date").appendingPathComponent("run"))
        let first = try run.fixedChatDate(today: #require(ChatDate(day: "2026-12-02")))
        let later = try run.fixedChatDate(today: #require(ChatDate(day: "2027-03-15")))
        #expect(first.day == "2026-12-02")
        #expect(later == first)
        #expect(try String(contentsOf: run.chatDate, encoding: .utf8) == "2026-12-02\n")
        #expect(try FileManager.default.contentsOfDirectory(atPath: run.root.path) == ["chat-date"])
    }

    @Test("shards starting together agree on one day")
    func concurrent() async throws {
        let run = RunDirectory(root: temporaryDirectory("chat-date-race"))
        let days = try await withThrowingTaskGroup(of: ChatDate.self) { group in
            for i in 0..<16 {
                group.addTask { try run.fixedChatDate(today: ChatDate(seconds: Int64(i) * 86_400)) }
            }
            return try await group.reduce(into: Set<ChatDate>()) { $0.insert($1) }
        }
        #expect(days.count == 1)
    }

    @Test("a damaged file is an error naming it")
    func malformed() throws {
        let run = RunDirectory(root: temporaryDirectory("chat-date-bad"))
        try Data("tomorrow\n".utf8).write(to: run.chatDate)
        #expect {
            try run.fixedChatDate()
        } throws: { error in
            "\(error.localizedDescription)".contains(run.chatDate.path)
                && "\(error.localizedDescription)".contains("YYYY-MM-DD")
        }
    }

    @Test("CJE_CHAT_DATE gives a new directory its day; a malformed one is refused, naming it")
    func fromEnvironment() throws {
        #expect(try ChatDate.forNewRun(["CJE_CHAT_DATE": "2026-01-31"]).day == "2026-01-31")
        #expect(try ChatDate.forNewRun([:]) == .today)
        #expect {
            try ChatDate.forNewRun(["CJE_CHAT_DATE": "31/01/2026"])
        } throws: { error in
            error.localizedDescription == "CJE_CHAT_DATE is '31/01/2026', not a day YYYY-MM-DD"
        }
    }
}
