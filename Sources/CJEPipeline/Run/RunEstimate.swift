import CJEInference
public import Foundation

/// What a run of N prompts will take, projected from a measured run's stage reports: per stage,
/// the items each prompt owes, the items actually computed (shared values are free), seconds per
/// computed item, provider calls, tokens and spend per item; and disk per prompt. Stages that
/// shards run (generate, logprobs, judge, the oracle on each shard's own rows of the label
/// design) divide over M machines; the merge does no model or provider work. Loading models,
/// sampling prompts, export and validate take seconds, not hours, and are not in the figures.
public struct RunEstimate: Codable, Sendable, Hashable {
    public struct Stage: Codable, Sendable, Hashable {
        public var stage: String
        /// Runs in every shard (true) or once, in the merge (false).
        public var sharded: Bool
        /// Results per prompt, and of them computed per prompt (the rest are shared).
        public var itemsPerPrompt: Double
        public var computedPerPrompt: Double
        /// Seconds per computed item, over every invocation of the measured run; nil if none
        /// was timed.
        public var secondsPerItem: Double?
        /// Tokens the stage's outputs hold per prompt, where counted (generate: response tokens).
        public var tokensPerPrompt: Double?
        /// Provider calls, tokens (in + out) and spend per prompt.
        public var callsPerPrompt: Double
        public var providerTokensPerPrompt: Double
        public var costPerPrompt: Double
        /// CPUs the stage got in the measured run: its CPU time over its wall time (nil where not
        /// kept).
        public var cpusUsed: Double?
        /// Generation on local engines, projected from how they spent the measured run rather
        /// than per item: tokens per second while the engine was full (a long run's steady
        /// state), and the seconds and tokens of a call's end, where its last answers finish a
        /// few sequences at a time (once per `GenerateStage.localCallSize` answers). Nil where
        /// the measured run never filled its engine, or generated on a provider.
        public var fullTokensPerSecond: Double?
        public var drainSecondsPerCall: Double?
        public var drainTokensPerCall: Double?
        /// Projections for N prompts.
        public var items: Int
        public var hours: Double?
        public var cost: Double

        enum CodingKeys: String, CodingKey {
            case stage, sharded, items, hours, cost
            case itemsPerPrompt = "items_per_prompt"
            case computedPerPrompt = "computed_per_prompt"
            case secondsPerItem = "seconds_per_item"
            case tokensPerPrompt = "tokens_per_prompt"
            case callsPerPrompt = "provider_calls_per_prompt"
            case providerTokensPerPrompt = "provider_tokens_per_prompt"
            case costPerPrompt = "cost_per_prompt"
            case cpusUsed = "cpus_used"
            case fullTokensPerSecond = "full_tokens_per_second"
            case drainSecondsPerCall = "drain_seconds_per_call"
            case drainTokensPerCall = "drain_tokens_per_call"
        }

        /// Hours of the stage's work for `prompts` prompts: generated tokens at the full
        /// engine's rate plus one call's end per `GenerateStage.localCallSize` answers where
        /// that was measured, else computed items times seconds per item.
        public func hours(prompts: Double) -> Double? {
            if let rate = fullTokensPerSecond, let drain = drainSecondsPerCall, let drainTokens = drainTokensPerCall,
                let tokens = tokensPerPrompt, rate > 0
            {
                let calls = (computedPerPrompt * prompts / Double(GenerateStage.localCallSize)).rounded(.up)
                return (max(0, tokens * prompts - calls * drainTokens) / rate + calls * drain) / 3600
            }
            return secondsPerItem.map { computedPerPrompt * prompts * $0 / 3600 }
        }
    }

    /// One provider's part of the projection: its calls, tokens and spend for N prompts, at
    /// the rate it answered the measured run (calls per second of the stages that used it).
    public struct Provider: Codable, Sendable, Hashable {
        public var name: String
        public var calls: Double
        public var inputTokens: Double
        public var outputTokens: Double
        public var cost: Double
        /// Calls per second while the measured run's stages used it (several requests in flight).
        public var measuredCallsPerSecond: Double?
        /// Hours of its calls at that rate, on one machine.
        public var hours: Double?
        /// The least hours its configured rate limits allow for every call, however many
        /// machines share the run (nil without limits in the config given).
        public var limitHours: Double?

        enum CodingKeys: String, CodingKey {
            case name, calls, cost, hours
            case inputTokens = "input_tokens"
            case outputTokens = "output_tokens"
            case measuredCallsPerSecond = "measured_calls_per_second"
            case limitHours = "limit_hours"
        }
    }

    /// The measured run: its directory and prompt count.
    public var measuredDir: String
    public var measuredN: Int
    /// The projection's prompts and machines.
    public var n: Int
    public var machines: Int
    public var stages: [Stage]
    /// Hours on one machine, and on `machines` machines (the slowest shard).
    public var hours: Double
    public var hoursOnMachines: Double
    public var cost: Double
    public var generatedTokens: Double?
    public var providerCalls: Double
    public var providerTokens: Double
    public var diskBytes: Double
    /// Every provider the measured run called, projected.
    public var providers: [Provider] = []
    /// Stages the measured run has not timed (their hours are missing from the totals).
    public var untimed: [String]
    /// What the figures cannot be trusted for, for a person (e.g. a source smaller than N).
    public var warnings: [String]
    /// Seconds the measured run's last invocation spent outside the item stages (loading the
    /// models, sampling prompts, export, validate), which the hours leave out.
    public var leftOut: [String: Double]

    enum CodingKeys: String, CodingKey {
        case n, machines, stages, hours, cost, untimed, warnings
        case leftOut = "left_out"
        case measuredDir = "measured_dir"
        case measuredN = "measured_n"
        case hoursOnMachines = "hours_on_machines"
        case generatedTokens = "generated_tokens"
        case providerCalls = "provider_calls"
        case providerTokens = "provider_tokens"
        case diskBytes = "disk_bytes"
        case providers
    }

    /// The stage reports in pipeline order, each with the work of every shard added (a merged
    /// run's own reports hold the merge's share only).
    static func reports(_ manifest: Manifest) -> [(name: String, report: StageReport)] {
        var merged = manifest.stages
        for shard in manifest.shards ?? [] {
            for (name, report) in shard.stages {
                var into = merged[name] ?? report
                if merged[name] != nil {
                    into.workItems = (into.workItems ?? into.doneNow) + (report.workItems ?? report.doneNow)
                    into.workSeconds = (into.workSeconds ?? into.seconds) + (report.workSeconds ?? report.seconds)
                    into.workCPUSeconds = into.workCPUSeconds.flatMap { a in report.workCPUSeconds.map { a + $0 } }
                    into.usage = (into.usage ?? [:]).merging(report.usage ?? [:], uniquingKeysWith: +)
                }
                merged[name] = into
            }
        }
        return Pipeline.inPipelineOrder(merged)
    }

    /// An oracle task's labels per prompt at scale: the measured run labelled `ceil(share x m)`
    /// prompts' rows (`share` the design's fraction, or the probes' share), which over-counts a
    /// small pilot (8 prompts at 0.2: 2, a quarter more than 1.6); the rate is the labels per
    /// labelled prompt times the share. Nil where the count is the pilot's own (stratified).
    static func labelsPerPrompt(_ stage: String, total: Int, measured: Int, oracle: OracleConfig) -> Double? {
        let share: Double
        switch (stage, oracle.design) {
        case ("oracle_probes", _): share = oracle.probes
        case ("oracle_calibration", .original), ("oracle_validation", .original),
            ("oracle_calibration", .paired), ("oracle_validation", .paired):
            share = oracle.fraction
        default: return nil
        }
        let drawn = (share * Double(measured)).rounded(.up)
        guard drawn > 0, measured > 0 else { return nil }
        return Double(total) / drawn * share
    }

    /// A local stage counts as starved below this share of the CPUs. Measured here (2 cores, the
    /// demo model, an 8-prompt pilot): 1.89-1.95 CPUs in every stage on a quiet machine; 1.22-1.28
    /// with one other busy process (`yes`), which made the projection for 10,000 prompts 95 h
    /// instead of 39 h.
    static let starvedShare = 0.8
    /// Stages timed for less than this many seconds are too short to judge.
    static let minimumTimed = 5.0

    /// Projects `manifest` (a run whose directory holds `diskBytes`) to `n` prompts on `machines`
    /// machines like the one it was measured on. Rates are per prompt the measured run has (it may
    /// have asked for more than its source holds), not per prompt it asked for.
    ///
    /// `cpus` are the CPUs the measured run could use; a local stage that got much less than that
    /// (its CPU time against its wall time) ran beside other work, and is said to.
    /// `limits` are the providers' settings of the config the run of N will use (their rate
    /// limits bound how fast any number of machines can call them).
    public init(
        manifest: Manifest, dir: String, diskBytes measuredBytes: Int, n: Int, machines: Int,
        cpus: Int = ProcessInfo.processInfo.activeProcessorCount, limits: [String: ProviderConfig] = [:]
    ) {
        let has = manifest.prompts?.written ?? manifest.n
        let measured = Double(max(1, has))
        let scale = Double(n)
        measuredDir = dir
        measuredN = has
        var warnings: [String] = []
        if has < manifest.n {
            warnings.append(
                "the measured run asked for \(manifest.n) prompts and its source gave \(has); its rates are per prompt it has"
            )
        }
        if let size = manifest.prompts?.sourceSize, n > size {
            warnings.append(
                "the measured run's prompt source holds \(size) prompts: a run of \(n) from it would write \(size) (the figures are for \(n) from a source as large)"
            )
        }
        self.n = n
        self.machines = machines
        let reports = Self.reports(manifest)
        let oracle = (try? PipelineConfig.stored(manifest.fingerprint.config))?
            .oracle
        stages = reports.map { name, report in
            let work = report.workItems ?? report.doneNow
            let seconds = report.workSeconds ?? report.seconds
            let usage = (report.usage ?? [:]).values.reduce(into: (calls: 0, tokens: 0, cost: 0.0)) {
                $0.calls += $1.calls
                $0.tokens += $1.inputTokens + $1.outputTokens
                $0.cost += $1.cost
            }
            // Labels per prompt from the design's rates, not the pilot's rounded-up slice.
            let labels = oracle.flatMap { Self.labelsPerPrompt(name, total: report.total, measured: has, oracle: $0) }
            let computed = labels ?? Double(report.total - (report.shared ?? 0)) / measured
            let perItem = work > 0 ? seconds / Double(work) : nil
            let costPerPrompt = usage.cost / measured
            var stage = Stage(
                stage: name, sharded: true, itemsPerPrompt: labels ?? Double(report.total) / measured,
                computedPerPrompt: computed, secondsPerItem: perItem,
                tokensPerPrompt: report.tokens.map { Double($0) / measured },
                callsPerPrompt: Double(usage.calls) / measured,
                providerTokensPerPrompt: Double(usage.tokens) / measured,
                costPerPrompt: costPerPrompt,
                cpusUsed: report.workCPUSeconds.flatMap { cpu in seconds > 0 ? cpu / seconds : nil },
                items: Int(((labels ?? Double(report.total) / measured) * scale).rounded()),
                hours: report.total == 0 ? 0 : perItem.map { computed * scale * $0 / 3600 }, cost: costPerPrompt * scale
            )
            // Generation on local engines: from the full engine's rate and the calls' ends.
            if let engine = report.workEngine, engine.generationCalls > 0, usage.calls == 0 {
                if engine.fullSeconds > 0, engine.fullTokens > 0 {
                    stage.fullTokensPerSecond = Double(engine.fullTokens) / engine.fullSeconds
                    stage.drainSecondsPerCall = engine.drainSeconds / Double(engine.generationCalls)
                    stage.drainTokensPerCall = Double(engine.drainTokens) / Double(engine.generationCalls)
                    stage.hours = stage.hours(prompts: scale)
                    stage.secondsPerItem = stage.hours.map { $0 * 3600 / max(1, computed * scale) }
                } else {
                    warnings.append(
                        "\(name): the measured run's generation never filled its engine (fewer answers than it decodes at once), so its seconds per answer are those of a call's end: the hours are an upper bound. A pilot with more prompts measures the full engine"
                    )
                }
            }
            return stage
        }
        let mergeHours = stages.filter { !$0.sharded }.compactMap(\.hours).reduce(0, +)
        hours = stages.filter(\.sharded).compactMap(\.hours).reduce(0, +) + mergeHours
        // Shards take every M-th prompt of the sample, so the slowest holds ceil(N / M) of them.
        let perShard = (Double(n) / Double(machines)).rounded(.up)
        hoursOnMachines = stages.filter(\.sharded).compactMap { $0.hours(prompts: perShard) }.reduce(0, +) + mergeHours
        leftOut = manifest.parts ?? [:]
        cost = stages.map(\.cost).reduce(0, +)
        let tokens = stages.compactMap(\.tokensPerPrompt)
        generatedTokens = tokens.isEmpty ? nil : tokens.reduce(0, +) * scale
        providerCalls = stages.map(\.callsPerPrompt).reduce(0, +) * scale
        providerTokens = stages.map(\.providerTokensPerPrompt).reduce(0, +) * scale
        diskBytes = Double(measuredBytes) / measured * scale
        untimed = stages.filter { $0.hours == nil }.map(\.stage)
        // A local stage's engine keeps every CPU it may use busy; far less means other work shared
        // the machine (or the scheduler gave fewer CPUs), and the hours are too long for this one.
        let starved = zip(stages, reports).filter { stage, measured in
            guard let used = stage.cpusUsed, (measured.report.workSeconds ?? 0) >= Self.minimumTimed,
                (measured.report.usage ?? [:]).isEmpty
            else { return false }
            return used < Self.starvedShare * Double(cpus)
        }
        if !starved.isEmpty {
            let detail = starved.map { String(format: "%@ %.2f", $0.0.stage, $0.0.cpusUsed ?? 0) }
            warnings.append(
                "the measured run got fewer CPUs than this machine has (\(cpus)): CPU time per wall second \(detail.joined(separator: ", ")). Other work shared the machine (or its scheduler gave fewer CPUs): the hours are likely too long; measure again on a quiet machine"
            )
        }
        providers = Self.providers(reports, measured: measured, scale: scale, limits: limits)
        for provider in providers {
            guard let limit = provider.limitHours, limit > hoursOnMachines else { continue }
            hoursOnMachines = limit
            warnings.append(
                String(
                    format:
                        "provider %@: its rate limits allow its %.0f calls in no less than %.2f h, however many machines share the run, and the time on the machines is that (each shard's client keeps the limits on its own: split them over the shards)",
                    provider.name, provider.calls, limit))
        }
        self.warnings = warnings
    }

    /// Every provider's calls, tokens and spend per measured prompt times N, and its measured
    /// rate: its calls over the seconds of the stages that called it.
    static func providers(
        _ reports: [(name: String, report: StageReport)], measured: Double, scale: Double,
        limits: [String: ProviderConfig]
    ) -> [Provider] {
        var usage: [String: ProviderUsage] = [:]
        var seconds: [String: Double] = [:]
        for (_, report) in reports {
            for (name, used) in report.usage ?? [:] {
                usage[name, default: ProviderUsage()] = usage[name, default: ProviderUsage()] + used
                seconds[name, default: 0] += report.workSeconds ?? report.seconds
            }
        }
        return usage.keys.sorted().map { name in
            let used = usage[name] ?? ProviderUsage()
            let fresh = used.calls - used.cacheHits
            let rate = (seconds[name] ?? 0) > 0 && fresh > 0 ? Double(fresh) / (seconds[name] ?? 1) : nil
            let calls = Double(used.calls) / measured * scale
            let input = Double(used.inputTokens) / measured * scale
            let output = Double(used.outputTokens) / measured * scale
            var bound: Double?
            if let settings = limits[name]?.settings {
                let byRequests = settings.requestsPerMinute.map { calls / Double($0) / 60 }
                let byTokens = settings.tokensPerMinute.map { (input + output) / Double($0) / 60 }
                bound = [byRequests, byTokens].compactMap { $0 }.max()
            }
            return Provider(
                name: name, calls: calls, inputTokens: input, outputTokens: output, cost: used.cost / measured * scale,
                measuredCallsPerSecond: rate, hours: rate.map { calls / $0 / 3600 }, limitHours: bound)
        }
    }
}

extension RunEstimate {
    /// The estimate as `cje-prep estimate` prints it: a table per stage, then the totals.
    public var table: String {
        let e = self
        func hours(_ h: Double?) -> String { h.map { String(format: "%.2f h", $0) } ?? "n/a" }
        func money(_ c: Double) -> String { String(format: "$%.2f", c) }
        var out = "projected from \(e.measuredDir) (n = \(e.measuredN)) to N = \(e.n), on this machine's kind\n"
        out += TextTable.render(
            header: ["stage", "runs in", "items/prompt", "computed/prompt", "s/item", "items", "hours", "spend"],
            rows: e.stages.map { s in
                [
                    s.stage, s.sharded ? "shards" : "merge", String(format: "%.2f", s.itemsPerPrompt),
                    String(format: "%.2f", s.computedPerPrompt),
                    s.secondsPerItem.map { String(format: "%.3f", $0) } ?? "n/a",
                    "\(s.items)", hours(s.hours), money(s.cost),
                ]
            })
        out += "\n"
        out +=
            "time: \(hours(e.hours)) on 1 machine; \(hours(e.hoursOnMachines)) on \(e.machines) machines (the slowest shard)\n"
        out +=
            "provider spend: \(money(e.cost)) (\(Int(e.providerCalls.rounded())) calls, \(Int(e.providerTokens.rounded())) tokens)\n"
        for p in e.providers {
            out += String(
                format: "provider %@: %.0f calls, %.0f in / %.0f out tokens, %@", p.name, p.calls, p.inputTokens,
                p.outputTokens, money(p.cost))
            if let rate = p.measuredCallsPerSecond, let h = p.hours {
                out += String(format: "; measured %.2f calls/s: %.2f h of calls on 1 machine", rate, h)
            }
            if let limit = p.limitHours { out += String(format: "; its rate limits: at least %.2f h", limit) }
            out += "\n"
        }
        if let tokens = e.generatedTokens { out += "generated tokens: \(Int(tokens.rounded()))\n" }
        out += String(format: "disk: %.1f MB\n", e.diskBytes / 1_000_000)
        out += e.leftOutLine
        for warning in e.warnings { out += "\nwarning: \(warning)" }
        if !e.untimed.isEmpty {
            out += "\nnot timed in the measured run (missing from the totals): \(e.untimed.joined(separator: ", "))"
        }
        return out
    }

    /// What the hours leave out, with the measured run's seconds where it kept them.
    var leftOutLine: String {
        let parts = [
            ("models", "loading models"), ("prompts", "sampling prompts"), ("export", "export"),
            ("validate", "validate"),
        ]
        let measured = parts.compactMap { key, name in leftOut[key].map { String(format: "%@ %.1f s", name, $0) } }
        guard !measured.isEmpty else {
            return "not included: loading models, sampling prompts, export and validate (not timed in the measured run)"
        }
        return "not included, as the measured run's last invocation took them: \(measured.joined(separator: ", "))"
            + " (models load on every machine; export grows with N, validate's determinism audit does not)"
    }

    /// Bytes of every file under `url`.
    public static func diskBytes(under url: URL) -> Int {
        guard
            let files = FileManager.default.enumerator(
                at: url, includingPropertiesForKeys: [.fileSizeKey, .isRegularFileKey])
        else { return 0 }
        var total = 0
        for case let file as URL in files {
            let values = try? file.resourceValues(forKeys: [.fileSizeKey, .isRegularFileKey])
            if values?.isRegularFile == true { total += values?.fileSize ?? 0 }
        }
        return total
    }
}
