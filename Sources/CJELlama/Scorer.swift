import CJEInference
import Dispatch

/// Teacher forcing with continuous batching: each distinct (context, response, end-of-turn)
/// sequence is decoded once, in its own KV stream, with logits requested only at the positions
/// that predict response tokens; every requested temperature is scored from those rows.
struct Scorer {
    let context: LlamaContext
    let model: LlamaModel
    /// Tokens one sequence may hold; longer requests are refused.
    let limit: Int

    private struct Key: Hashable {
        var context: [TokenID]
        var response: [TokenID]
        var appendEndOfTurn: Bool
    }

    private struct Job {
        var tokens: [TokenID]
        /// Position whose logits predict the first response token.
        var firstOutput: Int
        var temperatures: [Double]
        /// logProbs[t][k]: temperature index t, scored token k.
        var logProbs: [[Double]] = []
        var error: LlamaError?
    }

    func run(_ requests: [ScoreRequest], control: BatchControl<ScoreResult>) -> [Result<ScoreResult, LlamaError>] {
        var results = [Result<ScoreResult, LlamaError>?](repeating: nil, count: requests.count)
        var jobs: [Job] = []
        var jobOfKey: [Key: Int] = [:]
        var jobOfRequest = [Int?](repeating: nil, count: requests.count)

        for (index, request) in requests.enumerated() {
            if let problem = validate(request, index: index) {
                results[index] = .failure(problem)
                continue
            }
            let key = Key(
                context: request.context, response: request.response, appendEndOfTurn: request.appendEndOfTurn)
            if let j = jobOfKey[key] {
                for t in request.temperatures where !jobs[j].temperatures.contains(t) {
                    jobs[j].temperatures.append(t)
                }
                jobOfRequest[index] = j
            } else {
                var tokens = request.context + request.response
                if request.appendEndOfTurn { tokens.append(model.info.endOfTurnToken) }
                var temperatures: [Double] = []
                for t in request.temperatures where !temperatures.contains(t) { temperatures.append(t) }
                jobs.append(Job(tokens: tokens, firstOutput: request.context.count - 1, temperatures: temperatures))
                jobOfKey[key] = jobs.count - 1
                jobOfRequest[index] = jobs.count - 1
            }
        }
        for j in jobs.indices {
            jobs[j].logProbs = Array(repeating: [], count: jobs[j].temperatures.count)
        }

        control.tell(results)
        var requestsOfJob = [[Int]](repeating: [], count: jobs.count)
        for (index, j) in jobOfRequest.enumerated() { if let j { requestsOfJob[j].append(index) } }
        func result(_ index: Int, _ job: Job) -> Result<ScoreResult, LlamaError> {
            if let error = job.error { return .failure(error) }
            // A job's temperatures are the union of its requests' own, so every one is found.
            let scored = requests[index].temperatures.compactMap { t in
                job.temperatures.firstIndex(of: t).map {
                    SequenceLogProb(temperature: t, tokenLogProbs: job.logProbs[$0])
                }
            }
            return .success(ScoreResult(scored: scored))
        }
        decodeAll(&jobs, stop: control.shouldStop) { j, job in
            for index in requestsOfJob[j] {
                let value = result(index, job)
                results[index] = value
                control.tell(index, value)
            }
        }
        return results.map { $0 ?? .failure(.stopped) }
    }

    /// One output row to score: its logits, the token it must predict, and the temperatures.
    private typealias Row = (logits: UnsafeBufferPointer<Float>, target: Int, temperatures: [Double])

    /// log p(target) at each temperature, for each row, the rows spread over the threads
    /// llama.cpp computes with (`ComputeTeam`). Each row's value depends only on that row.
    private static func logProbs(_ rows: [Row], workers: Int) -> [[Double]] {
        var values = [[Double]](repeating: [], count: rows.count)
        values.withUnsafeMutableBufferPointer { values in
            ComputeTeam.forEach(rows.count, threads: workers) { k, _ in
                let row = rows[k]
                values[k] = row.temperatures.map { temperature in
                    LogSoftmax(logits: row.logits, temperature: temperature).logProb(ofLogit: row.logits[row.target])
                }
            }
        }
        return values
    }

    private func validate(_ request: ScoreRequest, index: Int) -> LlamaError? {
        if request.context.isEmpty { return .invalidRequest(index: index, reason: "the context is empty") }
        if request.response.isEmpty {
            return .invalidRequest(
                index: index, reason: "the response is empty; an empty response has no log probability")
        }
        if request.temperatures.isEmpty { return .invalidRequest(index: index, reason: "no temperature to score at") }
        if let bad = request.temperatures.first(where: { !EngineLimits.isScoringTemperature($0) }) {
            return .invalidRequest(index: index, reason: "temperature \(bad) is not a positive number")
        }
        let vocabulary = TokenID(model.info.vocabularySize)
        if let bad = (request.context + request.response).first(where: { $0 < 0 || $0 >= vocabulary }) {
            return .invalidRequest(index: index, reason: "token \(bad) is outside the vocabulary")
        }
        let length = request.tokensNeeded
        if length > limit {
            return .tooLong(index: index, tokens: length, limit: limit)
        }
        return nil
    }

    /// Feeds every job through the context, `sequences` at a time, refilling slots as jobs finish.
    /// `finished(j, job)` is told as each job is done; on a stop, the jobs not done are left.
    private func decodeAll(
        _ jobs: inout [Job], stop: (@Sendable () -> Bool)?, finished: (Int, Job) -> Void
    ) {
        var pending = jobs.indices.reversed().map { $0 }
        // slot -> (job, next position to feed). The last token is never fed: nothing reads its logits.
        var slots = [(job: Int, cursor: Int)?](repeating: nil, count: context.sequences)
        context.clearAll()

        while true {
            if stop?() ?? false { break }
            for s in slots.indices where slots[s] == nil {
                guard let j = pending.popLast() else { break }
                slots[s] = (j, 0)
            }
            if slots.allSatisfy({ $0 == nil }) { break }

            context.clearBatch()
            var outputs: [(index: Int, job: Int, position: Int)] = []
            var inBatch = Set<Int>()
            for s in slots.indices {
                guard var slot = slots[s] else { continue }
                let job = jobs[slot.job]
                let take = context.room(forRemaining: job.tokens.count - 1 - slot.cursor)
                for _ in 0..<take {
                    let wants = slot.cursor >= job.firstOutput
                    context.add(token: job.tokens[slot.cursor], position: slot.cursor, sequence: s, wantsLogits: wants)
                    if wants { outputs.append((context.batchCount - 1, slot.job, slot.cursor)) }
                    inBatch.insert(s)
                    slot.cursor += 1
                }
                slots[s] = slot
            }

            let code = context.decode()
            if code != 0 {
                for s in inBatch {
                    guard let j = slots[s]?.job else { continue }
                    jobs[j].error = .decodeFailed(code: code)
                    context.clear(sequence: s)
                    slots[s] = nil
                    finished(j, jobs[j])
                }
                continue
            }
            // Log-softmax of each output row, on the cores llama.cpp just computed with.
            let rows: [Row] = outputs.map { output in
                (
                    logits: context.logits(at: output.index),
                    target: Int(jobs[output.job].tokens[output.position + 1]),
                    temperatures: jobs[output.job].temperatures
                )
            }
            let values = Self.logProbs(rows, workers: context.threads)
            for (k, output) in outputs.enumerated() {
                for t in values[k].indices {
                    jobs[output.job].logProbs[t].append(values[k][t])
                }
            }
            for s in slots.indices {
                guard let slot = slots[s], slot.cursor == jobs[slot.job].tokens.count - 1 else { continue }
                context.clear(sequence: s)
                slots[s] = nil
                finished(slot.job, jobs[slot.job])
            }
        }
    }
}
