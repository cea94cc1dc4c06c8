import CJELlama
import Foundation

/// What this cje-prep is: its version, and for a bundle made by `make dist` the `BUILD` file
/// beside its `bin/` (the commit, the toolchain, llama.cpp's commit and flags). The engine line
/// comes from the loaded libllama itself, so it is true for any build.
public enum BuildInfo {
    /// The release; `make dist` names the bundle after it.
    public static let version = "0.6.0"

    /// `cje-prep --version`.
    public static var text: String {
        var lines = ["cje-prep \(version)"]
        if let build = bundleBuild {
            lines += build.split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
        } else {
            lines.append("a development build (no BUILD file beside bin/: `make dist` writes one)")
        }
        lines.append("engine: \(LlamaEngine.buildIdentity)")
        return lines.joined(separator: "\n")
    }

    /// The bundle's BUILD file (`<bundle>/BUILD` for `<bundle>/bin/cje-prep`), if there is one.
    public static var bundleBuild: String? {
        let path = (Bundle.main.executableURL ?? URL(fileURLWithPath: CommandLine.arguments[0]))
            .resolvingSymlinksInPath()
        let file = path.deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("BUILD")
        return try? String(contentsOf: file, encoding: .utf8)
    }
}
