import VAECUDA
import VAEModels

/// The emulated device behind the caching allocator (which also counts launches, GEMMs and copies), and a CUDA backend
/// on it with small launches (the emulator starts a thread per GPU thread).
func emulatedCachingBackend() throws -> (CachingDevice, CUDABackend) {
    let caching = CachingDevice(EmulatedDevice(try KernelEmulator.shared.get()))
    return (caching, CUDABackend(ops: DeviceOps(device: caching, blockSize: 64, maximumBlocks: 2)))
}

/// The tests' small `mlp`: 4×4 images, one hidden layer of 8, a latent of 3.
let tinyMLP = ModelSpecification(name: "mlp", inputShape: [1, 4, 4], settings: ["hidden_sizes": [8], "latent_size": 3])
