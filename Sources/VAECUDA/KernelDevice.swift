/// An argument of a kernel launch, by value as the kernel declares it (`long long`, `int`, `unsigned long long`,
/// `float`, a pointer, or a struct such as VaeBroadcast as its bytes).
public enum KernelArgument: Sendable {
    case int64(Int)
    case int32(Int32)
    case uint64(UInt64)
    case float(Float)
    /// A device address (0: a null pointer).
    case address(DeviceAddress)
    /// A struct passed by value: its bytes, laid out as the C struct.
    case bytes([UInt8])

    /// A VaeBroadcast or VaeLayout by value: each array as 8 `long long`s (zero-padded), then `trailer`, then the
    /// `int` rank, padded to a multiple of 8 bytes as the C struct is.
    public static func packed(_ arrays: [[Int]], then trailer: [Int64] = [], rank: Int32) -> KernelArgument {
        var words: [Int64] = []
        for array in arrays {
            precondition(array.count <= 8, "packed: \(array.count) entries, the kernels' structs hold 8")
            words += array.map(Int64.init) + [Int64](repeating: 0, count: 8 - array.count)
        }
        words += trailer
        var bytes = words.withUnsafeBytes { Array($0) }
        bytes += withUnsafeBytes(of: rank) { Array($0) }
        while bytes.count % 8 != 0 { bytes.append(0) }
        return .bytes(bytes)
    }

    /// Bytes the value takes as a kernel parameter.
    var byteCount: Int {
        switch self {
        case .int64, .uint64, .address: return 8
        case .int32, .float: return 4
        case .bytes(let bytes): return bytes.count
        }
    }

    /// Writes the value at `memory` (8-byte aligned).
    func write(to memory: UnsafeMutableRawPointer) {
        switch self {
        case .int64(let value): memory.storeBytes(of: Int64(value), as: Int64.self)
        case .int32(let value): memory.storeBytes(of: value, as: Int32.self)
        case .uint64(let value): memory.storeBytes(of: value, as: UInt64.self)
        case .float(let value): memory.storeBytes(of: value, as: Float.self)
        case .address(let address): memory.storeBytes(of: address.rawValue, as: UInt64.self)
        case .bytes(let bytes): bytes.withUnsafeBytes { if let base = $0.baseAddress { memory.copyMemory(from: base, byteCount: $0.count) } }
        }
    }

    /// Calls `body` with the arguments as `cuLaunchKernel` takes them: an array of pointers to each value. The
    /// values and the pointers live on the stack for the call (a launch allocates nothing).
    public static func withParameters<Result>(_ arguments: [KernelArgument],
                                              _ body: (UnsafeMutablePointer<UnsafeMutableRawPointer?>) throws -> Result) rethrows -> Result {
        let total = arguments.reduce(0) { $0 + ($1.byteCount + 7) / 8 * 8 }
        return try withUnsafeTemporaryAllocation(byteCount: max(total, 8), alignment: 16) { values in
            try withUnsafeTemporaryAllocation(of: UnsafeMutableRawPointer?.self, capacity: max(arguments.count, 1)) { pointers in
                var offset = 0
                for (index, argument) in arguments.enumerated() {
                    let at = values.baseAddress! + offset
                    argument.write(to: at)
                    pointers[index] = at
                    offset += (argument.byteCount + 7) / 8 * 8
                }
                return try body(pointers.baseAddress!)
            }
        }
    }
}

/// An address in a device's memory (a `CUdeviceptr`; host memory for an emulated device).
public struct DeviceAddress: Hashable, Sendable {
    public var rawValue: UInt64
    public init(_ rawValue: UInt64) { self.rawValue = rawValue }
    public static let null = DeviceAddress(0)
    /// The address `bytes` further on.
    public func advanced(by bytes: Int) -> DeviceAddress { DeviceAddress(rawValue + UInt64(bytes)) }
}

/// What runs VAEKit's kernels: an NVIDIA GPU through the driver (``CUDAContext``), or, in tests, the CPU.
/// Memory is allocated, filled and read explicitly; a launch runs a kernel of ``CUDAKernelSource`` by name.
public protocol KernelDevice: AnyObject {
    /// A name for reports ("NVIDIA H200 (sm_90)").
    var name: String { get }
    func allocate(bytes: Int) throws -> DeviceAddress
    func free(_ address: DeviceAddress)
    func copy(_ bytes: UnsafeRawBufferPointer, to address: DeviceAddress) throws
    func copy(from address: DeviceAddress, into bytes: UnsafeMutableRawBufferPointer) throws
    /// Runs kernel `name` on `grid` blocks of `block` threads, after the work launched before it (a GPU returns at
    /// once; a copy back to the host waits for the work, and reports its errors).
    func launch(_ name: String, grid: Int, block: Int, _ arguments: [KernelArgument]) throws
    /// C[m×n] = A[m×k]·B[k×n] (row-major, each optionally transposed as stored): cuBLAS's SGEMM on a GPU.
    func gemm(m: Int, n: Int, k: Int, a: DeviceAddress, transposingA: Bool, b: DeviceAddress, transposingB: Bool,
              c: DeviceAddress) throws
    /// Bytes the device could still hand out now (a GPU's free memory, `cuMemGetInfo`), or nil where it does not
    /// say (an emulated device, the dispatch-only one).
    var availableBytes: Int? { get }
}

extension KernelDevice {
    public var availableBytes: Int? { nil }

    /// Floats on the device, filled from `values`.
    public func upload(_ values: [Float]) throws -> DeviceAddress {
        let address = try allocate(bytes: max(values.count, 1) * 4)
        try values.withUnsafeBytes { try copy($0, to: address) }
        return address
    }

    /// Integers on the device as 64-bit values (`long long` indices and labels).
    public func upload(integers: [Int]) throws -> DeviceAddress {
        let address = try allocate(bytes: max(integers.count, 1) * 8)
        try integers.map(Int64.init).withUnsafeBytes { try copy($0, to: address) }
        return address
    }

    /// `count` floats read back from the device.
    public func download(_ address: DeviceAddress, count: Int) throws -> [Float] {
        var values = [Float](repeating: 0, count: count)
        try values.withUnsafeMutableBytes { try copy(from: address, into: $0) }
        return values
    }
}
