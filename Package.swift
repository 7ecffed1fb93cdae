// swift-tools-version: 6.1
import PackageDescription

// Layering (arrows point down only):
//   vae (CLI) → VAETraining → VAEModels → VAEDistributions · VAEData → VAENN · VAEOptimizers → VAETensor → CBLAS
//   VAETensor and VAEOptimizers also use CKernels (C loops compiled per vector width).
//   VAEFormats (gzip, PNG, safetensors) sits beside VAETensor over CZlib.
//   VAECUDA (the CUDA backend's run-time loader, NVRTC and kernels) depends on nothing; the CLI uses it.
//   VAEServe (`vae serve`, Hummingbird) sits between the CLI and VAETraining.
//   VAEMPI (training across MPI ranks) sits between the CLI and VAETraining; it is compiled only with the MPI trait
//   (`swift build -c release --traits MPI`, after `scripts/setup.sh --mpi`), so the default build needs no MPI.
#if os(Linux)
let blasSettings: [LinkerSetting] = []
let blasDependency: [Target.Dependency] = ["CBLAS"]
#else
let blasSettings: [LinkerSetting] = [.linkedFramework("Accelerate")]
let blasDependency: [Target.Dependency] = []
#endif

let package = Package(
    name: "VAEKit",
    platforms: [.macOS(.v13)],
    products: [
        .library(name: "VAEKit", targets: ["VAEKit"]),
        .executable(name: "vae", targets: ["vae"]),
    ],
    traits: [
        .trait(name: "MPI", description: "Data-parallel `vae train` across MPI ranks (Open MPI: libopenmpi-dev, openmpi-bin)."),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "5.0.1"),
        .package(url: "https://github.com/apple/swift-log", from: "1.5.0"),
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.4.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
    ],
    targets: [
        .systemLibrary(name: "CBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CMPI", pkgConfig: "ompi-c", providers: [.apt(["libopenmpi-dev"]), .brew(["open-mpi"])]),
        .systemLibrary(name: "CZlib", providers: [.apt(["zlib1g-dev"]), .brew(["zlib"])]),
        .systemLibrary(name: "CPNG", pkgConfig: "libpng", providers: [.apt(["libpng-dev"]), .brew(["libpng"])]),
        .target(name: "CJPEG", linkerSettings: [.linkedLibrary("jpeg")]),  // libjpeg62-turbo-dev; C shim, see decode.c
        .target(name: "CKernels"),  // memory-bound loops compiled per vector width (see CKernels.h)
        .target(name: "VAETensor", dependencies: blasDependency + ["CKernels"], linkerSettings: blasSettings),
        // The CUDA backend's loader (dlopen: no link-time CUDA), NVRTC and kernel sources; see docs/cuda.md.
        .target(name: "VAECUDA", dependencies: ["VAETensor"]),
        // Every CUDA kernel against the CPU backend on a KernelDevice (`vae devices --check` on a GPU; the tests emulate one).
        .target(name: "VAECUDAChecks", dependencies: ["VAECUDA", "VAETensor", "CKernels"]),
        .target(name: "VAEFormats", dependencies: ["CZlib"]),
        .target(name: "VAENN", dependencies: ["VAETensor", "VAEFormats"]),
        .target(name: "VAEOptimizers", dependencies: ["VAETensor", "VAENN", "CKernels"]),
        .target(name: "VAEDistributions", dependencies: ["VAETensor"]),
        .target(name: "VAEData", dependencies: ["VAETensor", "VAEFormats", "CPNG", "CJPEG"]),
        .target(name: "VAEModels", dependencies: ["VAETensor", "VAENN", "VAEDistributions"]),
        .target(name: "VAEPictures", dependencies: ["VAETensor", "VAENN", "VAEFormats", "VAEModels"]),
        .target(
            name: "VAETraining",
            dependencies: ["VAETensor", "VAENN", "VAEDistributions", "VAEModels", "VAEData", "VAEFormats", "VAEOptimizers", "VAEPictures", "Yams",
                           .product(name: "Logging", package: "swift-log")],
            resources: [.copy("Configs")]),
        // `vae serve`: the latent explorer's page and JSON API over HTTP (Hummingbird).
        .target(
            name: "VAEServe",
            dependencies: ["VAETensor", "VAEFormats", "VAEData", "VAEModels", "VAEPictures", "VAETraining",
                           .product(name: "Hummingbird", package: "hummingbird"), .product(name: "Logging", package: "swift-log")],
            resources: [.copy("Page")]),
        // Empty without the MPI trait (its sources are under `#if VAEKIT_MPI`), so `swift build` needs no MPI headers.
        .target(
            name: "VAEMPI",
            dependencies: ["VAETraining", .target(name: "CMPI", condition: .when(traits: ["MPI"]))],
            swiftSettings: [.define("VAEKIT_MPI", .when(traits: ["MPI"]))]),
        .target(name: "VAEKit", dependencies: ["VAETensor", "VAENN", "VAEOptimizers", "VAEDistributions",
                                               "VAEData", "VAEFormats", "VAEModels", "VAEPictures", "VAETraining"]),
        .executableTarget(name: "vae", dependencies: [
            "VAETensor", "VAECUDA", "VAECUDAChecks", "VAEData", "VAEFormats", "VAEModels", "VAEPictures", "VAETraining", "VAEServe",
            .target(name: "VAEMPI", condition: .when(traits: ["MPI"])),
            .product(name: "ArgumentParser", package: "swift-argument-parser")],
            swiftSettings: [.define("VAEKIT_MPI", .when(traits: ["MPI"]))]),
        // Small programs a Swift developer would write with the library (built by `swift build`, run by CI).
        .executableTarget(name: "example-autodiff-regression", dependencies: ["VAETensor"], path: "Examples/AutodiffRegression"),
        .executableTarget(name: "example-custom-network", dependencies: ["VAEKit"], path: "Examples/CustomNetwork"),
        .executableTarget(name: "example-latent-explorer", dependencies: ["VAEKit"], path: "Examples/LatentExplorer"),
        // Helpers every test target shares: temporary directories, Python, gradient checks, test values.
        .target(name: "TestSupport", dependencies: ["VAETensor"], path: "Tests/TestSupport"),
        .testTarget(name: "VAETensorTests", dependencies: ["VAETensor", "TestSupport"]),
        .testTarget(name: "VAENNTests", dependencies: ["VAETensor", "VAENN", "VAEOptimizers", "TestSupport"]),
        .testTarget(name: "VAECUDATests", dependencies: ["VAECUDA", "VAECUDAChecks", "VAETensor", "VAENN", "VAEModels", "VAEOptimizers", "VAETraining", "TestSupport"]),
        .testTarget(name: "VAEFormatsTests", dependencies: ["VAEFormats", "TestSupport"]),
        .testTarget(name: "VAEDataTests", dependencies: ["VAETensor", "VAEFormats", "VAEData", "TestSupport"]),
        .testTarget(name: "VAEModelsTests", dependencies: ["VAETensor", "VAENN", "VAEOptimizers", "VAEDistributions", "VAEModels", "TestSupport"]),
        .testTarget(name: "VAETrainingTests", dependencies: [
            "VAETensor", "VAENN", "VAEOptimizers", "VAEDistributions", "VAEFormats", "VAEData", "VAEModels", "VAEPictures",
            "VAETraining", "VAEKit", "TestSupport", .product(name: "Logging", package: "swift-log")]),
        .testTarget(name: "VAEServeTests", dependencies: ["VAETensor", "VAEFormats", "VAEData", "VAETraining", "VAEServe", "TestSupport"]),
        .testTarget(name: "CLITests", dependencies: ["vae", "TestSupport"]),
    ],
    swiftLanguageModes: [.v5]
)
