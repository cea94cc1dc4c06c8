/// The machine an invocation ran on, as the manifest keeps it: bit-identity across machines
/// holds for one llama.cpp build on CPUs that run it, so a merge compares these.
public struct NodeInfo: Codable, Sendable, Hashable {
    public var host: String
    /// The CPU's model name.
    public var cpu: String
    /// The CPU's instruction-set features that decide which kernels can run (avx2, avx512f, ...).
    public var cpuFeatures: [String]
    /// The engine build: llama.cpp commit and the instruction set it was compiled for.
    public var build: String

    public init(host: String, cpu: String, cpuFeatures: [String], build: String) {
        self.host = host
        self.cpu = cpu
        self.cpuFeatures = cpuFeatures
        self.build = build
    }

    enum CodingKeys: String, CodingKey {
        case host, cpu, build
        case cpuFeatures = "cpu_features"
    }
}
