import CJETestSupport
import Testing

/// The real-model suites skip themselves where the model is missing. Where they must run
/// (`make test` and CI set CJE_REQUIRE_REAL_MODEL=1), a missing model fails here instead, so a
/// run that could not test the engine never passes.
@Suite("Real-model requirement")
struct RealModelRequirementTests {
    @Test("the real model is present where the real-model suites must run", .enabled(if: RealModel.required))
    func present() {
        #expect(RealModel.path != nil, "\(RealModel.missing)")
    }
}
