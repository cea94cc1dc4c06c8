import CJEInference

/// Scores alternative continuations of a shared context: each context is decoded once in its
/// own sequence (logits kept at its last position), then continuation k of every sequence is
/// decoded in one batch, read, and its cells removed before continuation k + 1. A greedy answer,
/// when asked for, is decoded last from the same context cells.
struct ContinuationScorer {
    let context: LlamaContext
    let model: LlamaModel
    /// Tokens one sequence may hold; longer requests are refused.
    let limit: Int
    /// Where a request's shared prefix (`sharedPrefix`) is kept between groups; nil decodes
    /// every context in full.
    var prefixes: PrefixCache? = nil

    func run(_ requests: [ContinuationRequest], control: BatchControl<ContinuationResult> = .none) -> [Result<
        ContinuationResult, LlamaError
    >] {
        var results = [Result<ContinuationResult, LlamaError>?](repeating: nil, count: requests.count)
        var valid: [Int] = []
        for (index, request) in requests.enumerated() {
            let length = request.tokensNeeded
            if request.context.isEmpty || request.continuations.isEmpty
                || request.continuations.contains(where: \.isEmpty)
            {
                results[index] = .failure(.invalidRequest(index: index, reason: "empty context or continuation"))
            } else if !EngineLimits.isScoringTemperature(request.temperature) {
                results[index] = .failure(.invalidRequest(index: index, reason: "temperature must be positive"))
            } else if request.greedyMaxTokens < 0 {
                results[index] = .failure(.invalidRequest(index: index, reason: "greedy max tokens must be >= 0"))
            } else if length > limit {
                results[index] = .failure(.tooLong(index: index, tokens: length, limit: limit))
            } else {
                valid.append(index)
            }
        }
        control.tell(results)
        for start in stride(from: 0, to: valid.count, by: context.sequences) {
            let group = Array(valid[start..<min(start + context.sequences, valid.count)])
            guard let values = runGroup(group.map { requests[$0] }, stop: control.shouldStop) else { break }
            for (k, index) in group.enumerated() {
                results[index] = values[k]
                control.tell(index, values[k])
            }
        }
        return results.map { $0 ?? .failure(.stopped) }
    }

    /// At most `sequences` requests, one per sequence.
    /// Nil when `stop` said to stop before the group was done.
    private func runGroup(_ requests: [ContinuationRequest], stop: (@Sendable () -> Bool)?) -> [Result<
        ContinuationResult, LlamaError
    >]? {
        let stopped = { stop?() ?? false }
        context.clearAll()
        var failure: [LlamaError?] = Array(repeating: nil, count: requests.count)
        // The first token of every continuation is predicted by the context's last position.
        var lastRow: [[Float]] = Array(repeating: [], count: requests.count)
        var cursor = Array(repeating: 0, count: requests.count)
        if let prefixes {
            for (s, request) in requests.enumerated() where request.sharedPrefix < request.context.count {
                let prefix = Array(request.context.prefix(request.sharedPrefix))
                if !prefix.isEmpty, prefixes.restore(prefix, into: s, context: context) { cursor[s] = prefix.count }
            }
        }
        while cursor.indices.contains(where: { cursor[$0] < requests[$0].context.count && failure[$0] == nil }) {
            if stopped() { return nil }
            context.clearBatch()
            var outputs: [(index: Int, sequence: Int)] = []
            for s in requests.indices where failure[s] == nil {
                let tokens = requests[s].context
                for _ in 0..<context.room(forRemaining: tokens.count - cursor[s]) {
                    let wants = cursor[s] == tokens.count - 1
                    context.add(token: tokens[cursor[s]], position: cursor[s], sequence: s, wantsLogits: wants)
                    if wants { outputs.append((context.batchCount - 1, s)) }
                    cursor[s] += 1
                }
            }
            let code = context.decode()
            if code != 0 {
                for s in requests.indices where failure[s] == nil { failure[s] = .decodeFailed(code: code) }
                break
            }
            for output in outputs { lastRow[output.sequence] = Array(context.logits(at: output.index)) }
        }

        var values: [[Double]] = Array(repeating: [], count: requests.count)
        let count = requests.map(\.continuations.count).max() ?? 0
        // The context's last row predicts every continuation's first token: normalised once.
        let firstRows = parallelMap(requests.indices.map { $0 }) { s -> LogSoftmax? in
            guard failure[s] == nil, !lastRow[s].isEmpty else { return nil }
            return lastRow[s].withUnsafeBufferPointer { LogSoftmax(logits: $0, temperature: requests[s].temperature) }
        }
        for k in 0..<count {
            if stopped() { return nil }
            context.clearBatch()
            var outputs: [(index: Int, sequence: Int, target: TokenID)] = []
            var firsts: [(sequence: Int, target: TokenID)] = []
            for (s, request) in requests.enumerated() where failure[s] == nil && k < request.continuations.count {
                var tokens = request.continuations[k]
                if request.appendEndOfTurn { tokens.append(model.info.endOfTurnToken) }
                firsts.append((s, tokens[0]))
                for (j, token) in tokens.dropLast().enumerated() {
                    context.add(token: token, position: request.context.count + j, sequence: s, wantsLogits: true)
                    outputs.append((context.batchCount - 1, s, tokens[j + 1]))
                }
            }
            var sums = Array(repeating: 0.0, count: requests.count)
            for first in firsts {
                guard let normaliser = firstRows[first.sequence] else { continue }
                sums[first.sequence] = normaliser.logProb(ofLogit: lastRow[first.sequence][Int(first.target)])
            }
            if context.batchCount > 0 {
                let code = context.decode()
                if code != 0 {
                    for s in requests.indices where failure[s] == nil { failure[s] = .decodeFailed(code: code) }
                    break
                }
                // The rows are looked up here, on one thread: llama.cpp puts its outputs in batch
                // order on the first lookup after a decode.
                let rows = outputs.map { (row: context.logits(at: $0.index), output: $0) }
                let logProbs = parallelMap(rows) { row, output in
                    LogSoftmax(logits: row, temperature: requests[output.sequence].temperature)
                        .logProb(ofLogit: row[Int(output.target)])
                }
                // Added in the continuation's token order, as one sequence would be scored.
                for (output, value) in zip(outputs, logProbs) { sums[output.sequence] += value }
            }
            for first in firsts {
                values[first.sequence].append(sums[first.sequence])
                _ = context.remove(sequence: first.sequence, from: requests[first.sequence].context.count)
            }
        }
        guard let greedy = decodeGreedy(requests, lastRow: lastRow, failure: &failure, stop: stopped) else {
            return nil
        }
        return requests.indices.map { s in
            failure[s].map { .failure($0) } ?? .success(ContinuationResult(logProbs: values[s], greedy: greedy[s]))
        }
    }

    /// `transform` of every element, the elements spread over the threads llama.cpp computes with.
    private func parallelMap<Element, Value>(_ elements: [Element], _ transform: (Element) -> Value) -> [Value] {
        var values = [Value?](repeating: nil, count: elements.count)
        values.withUnsafeMutableBufferPointer { values in
            ComputeTeam.forEach(elements.count, threads: context.threads) { k, _ in values[k] = transform(elements[k]) }
        }
        return values.map { value in
            guard let value else { preconditionFailure("ComputeTeam skipped an index") }
            return value
        }
    }

    /// Greedy decoding after each context (whose cells are all the sequence holds now), one
    /// token per sequence per step, as `Generator` does at temperature 0.
    private func decodeGreedy(
        _ requests: [ContinuationRequest], lastRow: [[Float]], failure: inout [LlamaError?], stop: () -> Bool
    ) -> [GenerationResult?]? {
        var generated: [[TokenID]] = Array(repeating: [], count: requests.count)
        var results: [GenerationResult?] = Array(repeating: nil, count: requests.count)
        var active: [Int] = []
        func step(_ s: Int, _ token: TokenID) {
            let stop = model.isEndOfGeneration(token)
            if !stop { generated[s].append(token) }
            if stop || generated[s].count == requests[s].greedyMaxTokens {
                results[s] = GenerationResult(
                    text: model.detokenize(generated[s]), tokens: generated[s], finishReason: stop ? .stop : .length,
                    tokenLogProbs: [], stopToken: stop ? token : nil)
            } else {
                active.append(s)
            }
        }
        for s in requests.indices where failure[s] == nil && requests[s].greedyMaxTokens > 0 {
            step(s, lastRow[s].withUnsafeBufferPointer { Generator.greedy($0) })
        }
        while !active.isEmpty {
            if stop() { return nil }
            context.clearBatch()
            let stepping = active
            active = []
            for s in stepping {
                let position = requests[s].context.count + generated[s].count - 1
                guard let last = generated[s].last else { continue }  // an active sequence has a token
                context.add(token: last, position: position, sequence: s, wantsLogits: true)
            }
            let code = context.decode()
            if code != 0 {
                for s in stepping { failure[s] = .decodeFailed(code: code) }
                break
            }
            for (index, s) in stepping.enumerated() { step(s, Generator.greedy(context.logits(at: index))) }
        }
        return results
    }
}
