import Foundation

extension NodeInfo {
    /// This machine: its host name, CPU model, the instruction-set features that decide which
    /// kernels can run, and the engine build.
    public static func current(build: String) -> NodeInfo {
        var model = ProcessInfo.processInfo.environment["HOSTTYPE"] ?? "unknown CPU"
        var features: [String] = []
        if let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) {
            for line in text.split(separator: "\n") {
                let parts = line.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                guard parts.count == 2 else { continue }
                if parts[0] == "model name" { model = parts[1] }
                if parts[0] == "flags" || parts[0] == "Features" {
                    features = parts[1].split(separator: " ").map(String.init).filter(Self.isKernelFeature)
                }
                if !features.isEmpty && model != "unknown CPU" { break }
            }
        }
        return NodeInfo(
            host: ProcessInfo.processInfo.hostName, cpu: model, cpuFeatures: features.sorted(),
            build: build)
    }

    /// The CPU flags llama.cpp's kernels may use (x86 vector extensions, Arm's SIMD extensions).
    static func isKernelFeature(_ flag: String) -> Bool {
        flag.hasPrefix("avx") || flag.hasPrefix("amx") || flag.hasPrefix("sse") || flag.hasPrefix("ssse")
            || ["fma", "f16c", "bmi1", "bmi2", "asimd", "asimddp", "asimdhp", "i8mm", "sve", "sve2", "bf16"].contains(
                flag)
    }
}
