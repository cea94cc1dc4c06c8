import CJEInference
import CJEPipeline
import CJETestSupport
import Foundation

// The pipeline's own overhead at scale: every stage, journal, output and the validation of a run
// of N prompts (default config: 3 policies) on the fast tier's fake engine, whose requests take
// microseconds, so what is measured is cje-prep itself. Prints seconds and peak RSS; a benchmark,
// not a test (`make scale-bench` runs 1,000 and 10,000). With `hosted`, every policy (five), the
// judge and the oracle are on one provider, an in-process endpoint that answers at once
// (`InstantServer`), through the real HTTP client with 64 requests in flight: what is measured is
// the client, the stages, the journals, the response cache, the export and validate.
var arguments = CommandLine.arguments.dropFirst()
let hosted = arguments.first == "hosted"
if hosted { arguments = arguments.dropFirst() }
guard let n = arguments.first.flatMap({ Int($0) }), n > 0 else {
    FileHandle.standardError.write(Data("usage: cje-prep-scale [hosted] N [DIR]\n".utf8))
    exit(2)
}
let dir = URL(
    fileURLWithPath: arguments.dropFirst().first
        ?? FileManager.default.temporaryDirectory.appendingPathComponent("cje-prep-scale-\(n)-\(UUID().uuidString)")
        .path)
try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
let source = dir.appendingPathComponent("prompts.jsonl")
let topics = ["rivers", "taxes", "sorting", "tea", "orbits", "chess", "bread", "bridges", "verbs", "clouds"]
var lines = ""
for k in 0..<n {
    let line = try JSONEncoder().encode([
        "prompt_id": "s\(k)", "prompt": "Question \(k): explain \(topics[k % topics.count]) in \(k % 7 + 2) sentences.",
    ])
    lines += String(decoding: line, as: UTF8.self) + "\n"
}
try Data(lines.utf8).write(to: source)

var config = PipelineConfig.default
config.n = n
config.prompts.source = source.path
let server = hosted ? try InstantServer() : nil
if let server {
    var provider = ProviderConfig(baseURLs: ["http://127.0.0.1:\(server.port)/v1"], model: "instant")
    provider.settings.apiKeyEnv = nil
    provider.settings.maxConcurrent = 64
    config.providers = ["instant": provider]
    let prompts = [
        PipelineConfig.helpfulSystemPrompt, PipelineConfig.helpfulSystemPrompt, PipelineConfig.unhelpfulSystemPrompt,
        "You are a terse assistant.", "You are a patient teacher.",
    ]
    config.policies = ["base", "clone", "unhelpful", "terse", "teacher"].enumerated().map { k, name in
        var policy = PolicyConfig(name: name, systemPrompt: prompts[k], temperature: 0.7)
        policy.provider = "instant"
        return policy
    }
    config.loggingPolicy = "base"
    config.judge.provider = "instant"
    config.oracle.labeller.provider = "instant"
}
let engine = FakeEngine()
let fingerprint = try RunFingerprint(config: config, models: ["default": engine.modelInfo.sha256], engine: "fake")
let run = RunDirectory(root: dir.appendingPathComponent("run"))
let pipeline = Pipeline(
    config: config, run: run, fingerprint: fingerprint, engine: { _ in engine }, say: { _ in })
let started = Date()
let reports = try await pipeline.execute(through: .validate)
let seconds = Date().timeIntervalSince(started)
let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
let peak = status.split(separator: "\n").first { $0.hasPrefix("VmHWM:") }.map { String($0.dropFirst(6)) } ?? "?"
let items = reports.reduce(0) { $0 + $1.total }
let calls = reports.reduce(0) { $0 + ($1.usage?.values.reduce(0) { $0 + $1.calls } ?? 0) }
print(
    String(
        format: "%@n = %d: %.2f s, %d stage items (%.0f items/s)%@, peak RSS %@", hosted ? "hosted, " : "", n,
        seconds, items, Double(items) / seconds,
        hosted
            ? String(format: ", %d provider calls (%.0f calls/s, 64 in flight)", calls, Double(calls) / seconds) : "",
        peak.trimmingCharacters(in: .whitespaces)))
try server?.stop()
try? FileManager.default.removeItem(at: dir)
