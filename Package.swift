// swift-tools-version: 6.2
import PackageDescription

// One set of settings for every Swift target.
let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "cje-prep",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "cje-prep", targets: ["CJEPrepCLI"]),
        .library(name: "CJEInference", targets: ["CJEInference"]),
        .library(name: "CJELlama", targets: ["CJELlama"]),
        .library(name: "CJEPipeline", targets: ["CJEPipeline"]),
        .library(name: "CJEProviders", targets: ["CJEProviders"]),
        .library(name: "CJEPrepKit", targets: ["CJEPrepKit"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.81.0"),
    ],
    targets: [
        // llama.h as a Clang module; found through pkg-config (the Makefile points it at the
        // install that scripts/bootstrap.sh made).
        .systemLibrary(name: "CLlama", pkgConfig: "llama"),
        // Engine-neutral vocabulary: requests, results, errors, providers' protocol; the small
        // shared helpers (digests, the file lock, the locked value). No network, no llama.cpp.
        .target(name: "CJEInference"),
        // The only module that imports llama.h.
        .target(
            name: "CJELlama",
            dependencies: ["CLlama", "CJEInference"]
        ),
        // OpenAI-compatible providers over HTTP: retries, endpoints, rate limits, usage, cache.
        .target(
            name: "CJEProviders",
            dependencies: [
                "CJEInference",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ]
        ),
        // Stages, storage and configuration; knows engines only through CJEInference, and
        // providers through CJEProviders.
        .target(
            name: "CJEPipeline",
            dependencies: [
                "CJEInference", "CJEProviders", .product(name: "Yams", package: "Yams"),
            ]
        ),
        // The library with llama.cpp wired in: `LlamaModels.loader` for `RunSession.open`, the
        // engine's tour and benchmark.
        .target(name: "CJEPrepKit", dependencies: ["CJEInference", "CJELlama", "CJEPipeline"]),
        // Argument parsing only.
        .executableTarget(
            name: "CJEPrepCLI",
            dependencies: [
                "CJEInference", "CJELlama", "CJEPipeline", "CJEPrepKit",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // The README's example: a run from Swift through the library entry point (built by
        // `swift build`, so CI compiles it).
        .executableTarget(
            name: "run-from-swift", dependencies: ["CJEPipeline", "CJEPrepKit"], path: "Examples/RunFromSwift"),
        // The fast tier's fake engine and the real-model suites' gate; test code, not product.
        .target(
            name: "CJETestSupport",
            dependencies: [
                "CJEInference", "CJEProviders", .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            path: "Tests/CJETestSupport"),
        // The pipeline's own overhead at 1k and 10k prompts on the fake engine, and of a hosted run
        // against an in-process endpoint that answers at once (`make scale-bench`).
        .executableTarget(
            name: "cje-prep-scale",
            dependencies: [
                "CJEPipeline", "CJEInference", "CJETestSupport", .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"), .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            path: "Tests/ScaleBench"),
        // Fast tier: no model, no llama.cpp at run time; `make check` runs these.
        .testTarget(name: "CJEInferenceTests", dependencies: ["CJEInference"]),
        .testTarget(
            name: "CJEPipelineTests",
            dependencies: [
                "CJEPipeline", "CJEInference", "CJEProviders", "CJETestSupport",
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        // Fast tier too: the Hugging Face Hub and datasets-server clients against local stand-ins.
        .testTarget(
            name: "CJEHubTests",
            dependencies: [
                "CJEProviders", "CJEPipeline", "CJEInference", "CJETestSupport",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ]
        ),
        // Real-model tier: the SmolLM2 model through the real engine, real llama-servers.
        .testTarget(name: "CJELlamaTests", dependencies: ["CJELlama", "CJEInference", "CJETestSupport"]),
        .testTarget(
            name: "PipelineRunTests", dependencies: ["CJEPipeline", "CJELlama", "CJEInference", "CJETestSupport"]),
        .testTarget(
            name: "CJEProvidersTests",
            dependencies: [
                "CJEProviders", "CJEInference", "CJEPipeline", "CJELlama", "CJETestSupport",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ]
        ),
    ]
)

for target in package.targets where target.type != .system {
    target.swiftSettings = (target.swiftSettings ?? []) + swiftSettings
}
