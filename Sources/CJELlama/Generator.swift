import CJEInference
import Foundation

/// Continuous-batching generation: up to `sequences` requests decode together, one token each
/// per step, while new requests' contexts are fed into the same batches as slots free up.
struct Generator {
    let context: LlamaContext
    let model: LlamaModel
    /// Tokens one sequence may hold (context and new tokens); longer requests are refused.
    let limit: Int

    private struct Slot {
        var request: Int
        /// Context tokens fed so far.
        var fed: Int
        var rng: SplitMix64
        var generated: [TokenID] = []
        var logProbs: [Double] = []
    }

    func run(_ requests: [GenerationRequest], control: BatchControl<GenerationResult>) -> [Result<
        GenerationResult, LlamaError
    >] {
        var results = [Result<GenerationResult, LlamaError>?](repeating: nil, count: requests.count)
        var pending: [Int] = []
        for (index, request) in requests.enumerated() {
            if let problem = validate(request, index: index) {
                results[index] = .failure(problem)
            } else {
                pending.append(index)
            }
        }
        pending.reverse()
        var slots = [Slot?](repeating: nil, count: context.sequences)
        // One row of exponentials per thread that samples.
        let workers = max(1, context.threads)
        let scratch = UnsafeMutableBufferPointer<Double>.allocate(capacity: context.vocabularySize * workers)
        defer { scratch.deallocate() }
        context.clearAll()

        func finish(_ s: Int, _ result: Result<GenerationResult, LlamaError>) {
            guard let request = slots[s]?.request else { preconditionFailure("finishing an empty slot") }
            results[request] = result
            context.clear(sequence: s)
            slots[s] = nil
            control.tell(request, result)
        }
        control.tell(results)
        if !pending.isEmpty { context.timings.generationCalls += 1 }

        while true {
            if control.stopRequested {
                // Abandoned: neither the slots in flight nor the requests waiting are told.
                for index in results.indices where results[index] == nil { results[index] = .failure(.stopped) }
                break
            }
            for s in slots.indices where slots[s] == nil {
                guard let r = pending.popLast() else { break }
                slots[s] = Slot(request: r, fed: 0, rng: SplitMix64(seed: requests[r].seed))
            }
            if slots.allSatisfy({ $0 == nil }) { break }
            // Every sequence busy (requests may still wait), or the call's end draining.
            let full = !slots.contains { $0 == nil }

            let stepStarted = EngineTimings.now()
            context.clearBatch()
            var outputs: [(index: Int, slot: Int)] = []
            // Sequences past their context take one step each.
            for s in slots.indices {
                guard let slot = slots[s], let last = slot.generated.last else { continue }
                let position = requests[slot.request].context.count + slot.generated.count - 1
                context.add(token: last, position: position, sequence: s, wantsLogits: true)
                outputs.append((context.batchCount - 1, s))
            }
            let steps = outputs.count
            // The rest of the batch feeds contexts.
            for s in slots.indices {
                guard var slot = slots[s], slot.generated.isEmpty else { continue }
                let tokens = requests[slot.request].context
                for _ in 0..<context.room(forRemaining: tokens.count - slot.fed) {
                    let wants = slot.fed == tokens.count - 1
                    context.add(token: tokens[slot.fed], position: slot.fed, sequence: s, wantsLogits: wants)
                    if wants { outputs.append((context.batchCount - 1, s)) }
                    slot.fed += 1
                }
                slots[s] = slot
            }

            let code = context.decode()
            if code != 0 {
                for output in outputs { finish(output.slot, .failure(.decodeFailed(code: code))) }
                for s in slots.indices where slots[s]?.generated.isEmpty == true {
                    finish(s, .failure(.decodeFailed(code: code)))
                }
                continue
            }
            let draws = draw(outputs, slots: &slots, requests: requests, scratch: scratch, workers: workers)
            for (output, (token, logProb)) in zip(outputs, draws) {
                guard var slot = slots[output.slot] else { preconditionFailure("an output of an empty slot") }
                let request = requests[slot.request]
                if let logProb { slot.logProbs.append(logProb) }
                if model.isEndOfGeneration(token) {
                    slots[output.slot] = slot
                    finish(output.slot, .success(result(slot, .stop, stopToken: token)))
                    continue
                }
                slot.generated.append(token)
                slots[output.slot] = slot
                if slot.generated.count == request.maxNewTokens {
                    finish(output.slot, .success(result(slot, .length)))
                }
            }
            let elapsed = EngineTimings.now() - stepStarted
            // As llama-batched-bench times S_TG: every sequence drawing, no context fed.
            if context.batchCount == steps && steps == slots.count {
                context.timings.stepSeconds += elapsed
                context.timings.stepTokens += steps
            }
            if full {
                context.timings.fullSeconds += elapsed
                context.timings.fullTokens += outputs.count
            } else {
                context.timings.drainSeconds += elapsed
                context.timings.drainTokens += outputs.count
            }
        }
        return results.map { $0 ?? .failure(.stopped) }
    }

    /// Draws every output row's token at once, spread over the threads llama.cpp computes with
    /// (`ComputeTeam`); each row with its own slot's generator, so the split changes no draw.
    private func draw(
        _ outputs: [(index: Int, slot: Int)], slots: inout [Slot?], requests: [GenerationRequest],
        scratch: UnsafeMutableBufferPointer<Double>, workers: Int
    ) -> [(TokenID, Double?)] {
        var generators = outputs.map { output -> SplitMix64 in
            guard let slot = slots[output.slot] else { preconditionFailure("an output of an empty slot") }
            return slot.rng
        }
        let temperatures = outputs.map { requests[slots[$0.slot]?.request ?? 0].temperature }
        let rows = outputs.map { context.logits(at: $0.index) }
        var draws = [(TokenID, Double?)](repeating: (0, nil), count: outputs.count)
        let vocabulary = context.vocabularySize
        generators.withUnsafeMutableBufferPointer { generators in
            draws.withUnsafeMutableBufferPointer { draws in
                ComputeTeam.forEach(outputs.count, threads: workers) { k, worker in
                    let own = UnsafeMutableBufferPointer(
                        rebasing: scratch[(worker * vocabulary)..<((worker + 1) * vocabulary)])
                    draws[k] = Self.sample(rows[k], temperature: temperatures[k], rng: &generators[k], scratch: own)
                }
            }
        }
        for (k, output) in outputs.enumerated() { slots[output.slot]?.rng = generators[k] }
        return draws
    }

    private func result(_ slot: Slot, _ reason: FinishReason, stopToken: TokenID? = nil) -> GenerationResult {
        GenerationResult(
            text: model.detokenize(slot.generated), tokens: slot.generated, finishReason: reason,
            tokenLogProbs: slot.logProbs, stopToken: stopToken)
    }

    private func validate(_ request: GenerationRequest, index: Int) -> LlamaError? {
        if request.context.isEmpty { return .invalidRequest(index: index, reason: "the context is empty") }
        if request.maxNewTokens < 1 {
            return .invalidRequest(index: index, reason: "max new tokens must be at least 1")
        }
        if !EngineLimits.isGenerationTemperature(request.temperature) {
            return .invalidRequest(index: index, reason: "temperature \(request.temperature) is not a number >= 0")
        }
        let vocabulary = TokenID(model.info.vocabularySize)
        if let bad = request.context.first(where: { $0 < 0 || $0 >= vocabulary }) {
            return .invalidRequest(index: index, reason: "token \(bad) is outside the vocabulary")
        }
        let length = request.tokensNeeded
        if length > limit {
            return .tooLong(index: index, tokens: length, limit: limit)
        }
        return nil
    }

    /// Pure temperature sampling over the full vocabulary (one uniform per step from the
    /// request's generator); greedy (lowest id among ties) at temperature 0. Returns the token and
    /// its log probability under log-softmax(logits / T) (nil when greedy).
    private static func sample(
        _ logits: UnsafeBufferPointer<Float>, temperature: Double, rng: inout SplitMix64,
        scratch: UnsafeMutableBufferPointer<Double>
    ) -> (TokenID, Double?) {
        if temperature == 0 { return (greedy(logits), nil) }
        let u = rng.nextUnitInterval()
        let (index, logProb) = LogSoftmax.sample(logits: logits, temperature: temperature, u: u, scratch: scratch)
        return (TokenID(index), logProb)
    }

    /// The greedy choice: the largest logit, the lowest id among ties.
    static func greedy(_ logits: UnsafeBufferPointer<Float>) -> TokenID {
        var best = 0
        for i in logits.indices where logits[i] > logits[best] { best = i }
        return TokenID(best)
    }
}
