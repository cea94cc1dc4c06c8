public import Foundation

/// The CPUs a scheduler gave this process, when it says so: Slurm's `SLURM_CPUS_PER_TASK`, or a
/// container's CFS quota (cgroup v2 `cpu.max`, e.g. a Kubernetes CPU limit). llama.cpp's threads
/// busy-wait, so more threads than CPUs is far slower (measured here: three shards of 2 threads
/// on 2 cores took 2.5 times as long as with 1 thread each); the engine uses this many threads
/// unless `engine.threads` says otherwise. Thread counts change no result.
public enum CPUAllotment {
    public static func current(
        environment: [String: String] = ProcessInfo.processInfo.environment,
        cgroupCPUMax: String? = try? String(contentsOfFile: "/sys/fs/cgroup/cpu.max", encoding: .utf8)
    ) -> (cpus: Int, source: String)? {
        if let text = environment["SLURM_CPUS_PER_TASK"], let cpus = Int(text), cpus >= 1 {
            return (cpus, "SLURM_CPUS_PER_TASK=\(text)")
        }
        let fields = (cgroupCPUMax ?? "").split(separator: " ").map {
            $0.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        if fields.count == 2, let quota = Double(fields[0]), let period = Double(fields[1]), quota > 0, period > 0 {
            let cpus = max(1, Int((quota / period).rounded(.up)))
            if cpus < ProcessInfo.processInfo.activeProcessorCount {
                return (cpus, "cgroup cpu.max \(fields[0]) \(fields[1])")
            }
        }
        return nil
    }
}
