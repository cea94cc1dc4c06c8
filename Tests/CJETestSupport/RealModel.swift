import Foundation

#if canImport(Testing)
    public import Testing
#endif

/// Whether the real-model suites can run here: they need `CJE_MODEL`, the path of the demo
/// GGUF model, which `make test` (through scripts/with-env.sh) sets after fetching it. Without it
/// they are skipped with that reason; `make test` and CI also set `CJE_REQUIRE_REAL_MODEL=1`,
/// under which a missing model fails the run instead (`RealModelRequirementTests`).
public enum RealModel {
    /// `CJE_MODEL`, when it names a file that exists.
    public static var path: String? {
        guard let path = ProcessInfo.processInfo.environment["CJE_MODEL"], !path.isEmpty,
            FileManager.default.fileExists(atPath: path)
        else { return nil }
        return path
    }

    /// The suites must run: a missing model is a failure, not a skip.
    public static var required: Bool { ProcessInfo.processInfo.environment["CJE_REQUIRE_REAL_MODEL"] == "1" }

    /// What is missing, for a person.
    public static var missing: String {
        let value = ProcessInfo.processInfo.environment["CJE_MODEL"] ?? ""
        return value.isEmpty
            ? "CJE_MODEL is not set; run `make test` (it fetches the SmolLM2 demo model and sets it)"
            : "CJE_MODEL=\(value) does not exist; run `scripts/bootstrap.sh model` or `make test`"
    }
}

#if canImport(Testing)
    extension Trait where Self == ConditionTrait {
        /// Runs a suite only where the real model is available (`RealModel.path`); skipped, with
        /// the reason, elsewhere.
        public static var needsRealModel: Self {
            .enabled(
                if: RealModel.path != nil, "needs the real model: set CJE_MODEL to the demo GGUF (make test does)")
        }
    }
#endif
