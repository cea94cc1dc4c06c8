import AsyncHTTPClient
import CJEInference
public import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Child processes to stop when the test process exits.
private let children = ChildProcesses()

final class ChildProcesses: Sendable {
    private let state = LockedValue((pids: [Int32](), registered: false))

    func add(_ process: Process) {
        state.update {
            $0.pids.append(process.processIdentifier)
            if !$0.registered {
                $0.registered = true
                atexit { children.killAll() }
            }
        }
    }

    func killAll() { state.access { for pid in $0.pids { kill(pid, SIGKILL) } } }
}

/// Started once, shared by the tests, without blocking any thread.
public actor Peers {
    public static let shared = Peers()
    private var servers: [Int: Task<LlamaServer, any Error>] = [:]

    /// Server `index` (0, 1, ...): each its own process and port, started once even when
    /// several tests ask at the same time.
    public func llamaServer(_ index: Int = 0) async throws -> LlamaServer {
        if let server = servers[index] { return try await server.value }
        let starting = Task<LlamaServer, any Error> {
            let started = try LlamaServer(slots: 2)
            try await waitUntilHealthy(started.baseURL + "/health", process: started.process, log: started.log)
            return started
        }
        servers[index] = starting
        return try await starting.value
    }
}

/// A real llama-server (from the bootstrapped llama.cpp) with the demo model, on 127.0.0.1. Its
/// log goes to a file, read when it does not become ready (`waitUntilHealthy`).
public final class LlamaServer: Sendable {
    public let process: Process
    public let baseURL: String
    public let log: URL

    public init(slots: Int) throws {
        let environment = ProcessInfo.processInfo.environment
        let binary =
            environment["LLAMA_PREFIX"].map { $0 + "/bin/llama-server" }
            ?? (environment["PATH"] ?? "").split(separator: ":").map { $0 + "/llama-server" }.first {
                FileManager.default.isExecutableFile(atPath: $0)
            }
        guard let binary, FileManager.default.isExecutableFile(atPath: binary) else {
            throw PeerError(
                "llama-server not found: run the tests through scripts/with-env.sh with CJE_LLAMA_TOOLS=1 (make test)")
        }
        let model =
            environment["CJE_MODEL"]
            ?? (NSHomeDirectory() + "/.cache/cje-prep/models/SmolLM2-135M-Instruct.Q8_0.gguf")
        let port = try freePort()
        log = FileManager.default.temporaryDirectory.appendingPathComponent(
            "llama-server-\(port)-\(UUID().uuidString).log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = [
            "-m", model, "--host", "127.0.0.1", "--port", "\(port)", "-t", "1", "-c", "\(2048 * slots)",
            "--parallel", "\(slots)", "--no-webui", "-fa", "off", "--no-warmup",
        ]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = try FileHandle(forWritingTo: log)
        try process.run()
        children.add(process)
        baseURL = "http://127.0.0.1:\(port)"
    }

    deinit {
        process.terminate()
        try? FileManager.default.removeItem(at: log)
    }
}

/// A Python test peer from Tests/Integration (fault proxy, fake datasets server) on a free port.
public final class PythonPeer: Sendable {
    public let process: Process
    public let baseURL: String

    public init(script: String, arguments: [String]) throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../Integration/\(script)").standardizedFileURL
        let portFile = FileManager.default.temporaryDirectory.appendingPathComponent("peer-\(UUID().uuidString)")
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        var all = ["python3", path.path]
        all += arguments.isEmpty ? [] : [arguments[0]]
        all.append(portFile.path)
        all += arguments.dropFirst()
        process.arguments = all
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        children.add(process)
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline, (try? String(contentsOf: portFile, encoding: .utf8)) == nil { usleep(50_000) }
        guard let port = try? String(contentsOf: portFile, encoding: .utf8) else {
            process.terminate()
            throw PeerError("\(script) did not start")
        }
        try? FileManager.default.removeItem(at: portFile)
        baseURL = "http://127.0.0.1:\(port)"
    }

    /// GET /stats as JSON.
    public func stats<T: Decodable>(_ type: T.Type) async throws -> T {
        let response = try await HTTPClient.shared.execute(
            HTTPClientRequest(url: baseURL + "/stats"), timeout: .seconds(5))
        let body = try await response.body.collect(upTo: 1 << 20)
        return try JSONDecoder().decode(T.self, from: Data(body.readableBytesView))
    }

    deinit { process.terminate() }
}

/// The fault-injecting proxy (Tests/Integration/fault_proxy.py) in front of an upstream.
public final class FaultProxy: Sendable {
    public let peer: PythonPeer
    public var baseURL: String { peer.baseURL }

    public init(upstream: String, faults: [String]) throws {
        peer = try PythonPeer(script: "fault_proxy.py", arguments: [upstream, faults.joined(separator: ",")])
    }

    /// Requests seen and faults injected, by kind.
    public func stats() async throws -> (requests: Int, faults: [String: Int]) {
        struct Stats: Decodable {
            var requests: Int
            var faults: [String: Int]
        }
        let stats = try await peer.stats(Stats.self)
        return (stats.requests, stats.faults)
    }
}

public struct PeerError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// A port nothing listens on right now.
public func freePort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
            bind(fd, pointer, length) == 0 && getsockname(fd, pointer, &length) == 0
        }
    }
    guard bound else { throw PeerError("could not find a free port") }
    return Int(UInt16(bigEndian: address.sin_port))
}

/// Waits until `url` answers 200. No fixed wall time: on a loaded machine a server may take long
/// to load, so it is waited for as long as it makes progress (its CPU time grows or its log
/// does) and is alive, and given up on after `stalled` seconds without progress or `limit` in
/// all. The error says which, with the server's CPU time and the end of its log.
public func waitUntilHealthy(
    _ url: String, process: Process, log: URL? = nil, stalled: TimeInterval = 180, limit: TimeInterval = 1800
) async throws {
    let start = Date()
    var lastProgress = start
    var seen = (cpu: -1, logBytes: -1)
    func describe(_ why: String) -> PeerError {
        let tail = log.flatMap { try? String(contentsOf: $0, encoding: .utf8) }.map {
            $0.split(separator: "\n").suffix(15).joined(separator: "\n")
        }
        return PeerError(
            "llama-server (\(url)) \(why) after \(Int(Date().timeIntervalSince(start))) s, \(Double(seen.cpu) / 100) s of CPU"
                + (tail.map { "; the end of its log:\n\($0)" } ?? ""))
    }
    while true {
        guard process.isRunning else { throw describe("exited with \(process.terminationStatus)") }
        if let response = try? await HTTPClient.shared.execute(HTTPClientRequest(url: url), timeout: .seconds(5)),
            response.status.code == 200
        {
            return
        }
        let now = (cpu: cpuTicks(process.processIdentifier), logBytes: log.flatMap(fileSize) ?? 0)
        if now.cpu != seen.cpu || now.logBytes != seen.logBytes {
            seen = now
            lastProgress = Date()
        }
        if Date().timeIntervalSince(lastProgress) > stalled {
            throw describe("made no progress (no CPU time, no log) for \(Int(stalled)) s and did not answer")
        }
        if Date().timeIntervalSince(start) > limit { throw describe("did not answer within \(Int(limit)) s") }
        try await Task.sleep(nanoseconds: 250_000_000)
    }
}

/// A process's user + system CPU time in clock ticks (/proc/PID/stat), or -1 where unreadable.
private func cpuTicks(_ pid: Int32) -> Int {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
        let close = stat.lastIndex(of: ")")
    else { return -1 }
    // Fields after the command name: state is field 3, utime 14 and stime 15.
    let fields = stat[stat.index(after: close)...].split(separator: " ")
    guard fields.count > 12, let user = Int(fields[11]), let system = Int(fields[12]) else { return -1 }
    return user + system
}

private func fileSize(_ url: URL) -> Int? {
    (try? FileManager.default.attributesOfItem(atPath: url.path)[.size] as? NSNumber)?.intValue
}
