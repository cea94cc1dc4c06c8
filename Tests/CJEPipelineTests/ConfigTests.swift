import CJEPipeline
import Foundation
import Testing

@Suite("Config")
struct ConfigTests {
    @Test("an empty file and the commented default both give the built-in default")
    func defaults() throws {
        #expect(try PipelineConfig.parse("", path: "c.yaml") == .default)
        #expect(try PipelineConfig.parse(PipelineConfig.commentedDefault, path: "c.yaml") == .default)
        let names = PipelineConfig.default.policies.map(\.name)
        #expect(names == ["p0", "pi_clone", "pi_bad"])
        #expect(PipelineConfig.default.logging.temperature == 0.5)
    }

    @Test("a partial file keeps the defaults of what it leaves out")
    func partial() throws {
        let config = try PipelineConfig.parse("n: 5\nengine:\n  threads: 1\n", path: "c.yaml")
        #expect(config.n == 5 && config.engine.threads == 1)
        #expect(config.policies == PipelineConfig.default.policies)
    }

    @Test(
        "mistakes name the file and the key path",
        arguments: [
            ("sed: 4\n", "unknown key 'sed'"),
            (
                "policies:\n  - name: p0\n    system_prompt: hi\n    temprature: 0.5\n",
                "unknown key 'policies[0].temprature'"
            ),
            ("n: many\n", "'n' should be a whole number"),
            (
                "policies:\n  - name: p0\n    system_prompt: hi\n    temperature: 0\n",
                "'policies[0].temperature' must be > 0"
            ),
            ("policies:\n  - name: p0\n", "'policies[0].system_prompt' is required"),
            ("logging_policy: p9\n", "'logging_policy' 'p9' is not one of the policies"),
            ("models:\n  big: {}\n", "'models.big.path' is required"),
            ("judge:\n  model: nope\n", "'judge.model' names model 'nope'"),
            ("oracle:\n  deterministic: best\n", "'oracle.deterministic' is 'best', expected one of argmax, greedy"),
            ("n: [1\n", "is not valid YAML"),
        ])
    func mistakes(text: String, message: String) throws {
        #expect {
            try PipelineConfig.parse(text, path: "run.yaml")
        } throws: { error in
            let description = error.localizedDescription
            return description.hasPrefix("config run.yaml") && description.contains(message)
        }
    }
}

@Suite("Rubric answers")
struct RubricParseTests {
    @Test(
        "strict parsing of a judge's answer",
        arguments: [
            ("7", 7), (" 10 out of 10", 10), ("0", 0), ("8/10", 8), ("6.", 6), (" 9.9 out of 1", nil),
            ("3.5 out of 5", nil),
            ("11", nil), ("seven", nil), ("7, because it is good", nil), ("", nil), ("Score 5", nil),
        ] as [(String, Int?)])
    func parse(answer: String, expected: Int?) {
        #expect(Rubric.parse(answer) == expected)
    }
}
