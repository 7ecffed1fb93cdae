/// A point in a device's stream of work (a CUDA event), recorded after the work issued before it.
public struct DeviceMark: Hashable, Sendable {
    public var rawValue: UInt64
    public init(_ rawValue: UInt64) { self.rawValue = rawValue }
}

/// A device that times its own work: marks recorded in order with the work, and the time between two of them on
/// the device's clock (CUDA events on a GPU).
public protocol DeviceClock: AnyObject {
    /// A mark after the work issued so far.
    func recordMark() throws -> DeviceMark
    /// Seconds from `start` to `end` on the device's clock, once the work before `end` is done (waits for it).
    func seconds(from start: DeviceMark, to end: DeviceMark) throws -> Double
    /// Gives a mark back for reuse.
    func releaseMark(_ mark: DeviceMark)
}

/// A ``KernelDevice`` that times each launch, GEMM and copy of the device below it on that device's clock, with a
/// mark before and after each: the device time of each kernel by name, of the GEMMs and of the copies, and the span
/// from the first mark to the last, so that span − busy time is the time the device sat idle waiting for the host
/// to issue work (launch-bound steps). The span is summed over the stretches between two reads of the marks (the
/// gap where the host reads them is left out), and a copy is synchronous: its time includes the host's part.
/// Recording starts and stops with ``isRecording``; ``collect()`` reads the marks (waiting for their work) and adds
/// them up. The marks cost the host a little per op: a profile shows where device time goes, not the step time of
/// an unprofiled run.
public final class ProfilingDevice: KernelDevice {
    public let base: KernelDevice & DeviceClock
    public var name: String { base.name }
    public var availableBytes: Int? { base.availableBytes }

    /// One kind of work: how often it ran and its device seconds in all.
    public struct Entry: Sendable, Equatable {
        public var count = 0
        public var seconds = 0.0
    }
    /// Launches by kernel name, ``gemmName`` for the GEMMs, ``copyToDeviceName`` and ``copyToHostName``.
    public private(set) var entries: [String: Entry] = [:]
    /// Device seconds from the first mark to the last of each collected stretch, summed.
    public private(set) var spanSeconds = 0.0
    /// Floating-point operations of the timed GEMMs (2·m·n·k each).
    public private(set) var gemmOperations = 0
    /// Whether work is being timed (off: the ops pass straight through).
    public var isRecording = false

    public static let gemmName = "GEMM (cuBLAS SGEMM)", copyToDeviceName = "copy to the device", copyToHostName = "copy to the host"

    /// Timed ops whose marks are not read yet.
    var pending: [(name: String, start: DeviceMark, end: DeviceMark)] = []
    /// Pending ops after which a copy back to the host (which waits for the work) makes reading them cheap.
    static let collectAfter = 1024

    public init(_ base: KernelDevice & DeviceClock) { self.base = base }

    deinit { reset() }

    /// The busy seconds: the sum over every entry.
    public var busySeconds: Double { entries.values.reduce(0) { $0 + $1.seconds } }

    /// Reads the pending marks (waiting for their work) and adds them to ``entries`` and ``spanSeconds``.
    public func collect() throws {
        guard let first = pending.first, let last = pending.last else { return }
        defer {
            for op in pending { base.releaseMark(op.start); base.releaseMark(op.end) }
            pending.removeAll(keepingCapacity: true)
        }
        spanSeconds += try base.seconds(from: first.start, to: last.end)
        for op in pending {
            entries[op.name, default: Entry()].count += 1
            entries[op.name, default: Entry()].seconds += try base.seconds(from: op.start, to: op.end)
        }
    }

    /// Forgets what was collected (and any pending marks).
    public func reset() {
        for op in pending { base.releaseMark(op.start); base.releaseMark(op.end) }
        pending.removeAll()
        (entries, spanSeconds, gemmOperations) = ([:], 0, 0)
    }

    /// The collected time per step of `steps`: the span split into GEMMs (with their TFLOP/s), the other kernels,
    /// copies and idle time, then the kernels by device time, most first (at most `kernels` of them).
    public func summary(steps: Int, kernels: Int = 12) -> [String] {
        let perStep = 1000 / Double(max(steps, 1))
        let gemm = entries[Self.gemmName] ?? Entry()
        let copies = (entries[Self.copyToDeviceName]?.seconds ?? 0) + (entries[Self.copyToHostName]?.seconds ?? 0)
        let kernelEntries = entries.filter { ![Self.gemmName, Self.copyToDeviceName, Self.copyToHostName].contains($0.key) }
        let kernelSeconds = max(0, busySeconds - gemm.seconds - copies)
        let idle = max(0, spanSeconds - busySeconds)
        func share(_ seconds: Double) -> String { String(format: "%.0f%%", spanSeconds > 0 ? 100 * seconds / spanSeconds : 0) }
        let tflops = gemm.seconds > 0 ? Double(gemmOperations) / gemm.seconds / 1e12 : 0
        var lines = [String(format: "profile %.3f ms per step on the device's clock: GEMMs %.3f ms (%@, %d per step, %.2f TFLOP/s), other kernels %.3f ms (%@, %d launches), copies %.3f ms (%@), idle %.3f ms (%@: waiting for the host)",
                            spanSeconds * perStep, gemm.seconds * perStep, share(gemm.seconds), gemm.count / max(steps, 1), tflops,
                            kernelSeconds * perStep, share(kernelSeconds), kernelEntries.values.reduce(0) { $0 + $1.count } / max(steps, 1),
                            copies * perStep, share(copies), idle * perStep, share(idle))]
        let slowest = kernelEntries.sorted { ($1.value.seconds, $0.key) < ($0.value.seconds, $1.key) }.prefix(kernels)
        lines.append("        kernels by device time per step: " + slowest.map {
            String(format: "%@ %.3f ms (%.1f × %.1f µs)", $0.key, $0.value.seconds * perStep, Double($0.value.count) / Double(max(steps, 1)),
                   1e6 * $0.value.seconds / Double(max($0.value.count, 1)))
        }.joined(separator: ", "))
        return lines
    }

    func timed(_ name: String, _ body: () throws -> Void) throws {
        guard isRecording else { return try body() }
        let start = try base.recordMark()
        let end: DeviceMark
        do {
            try body()
            end = try base.recordMark()
        } catch {
            base.releaseMark(start)
            throw error
        }
        pending.append((name, start, end))
    }

    public func allocate(bytes: Int) throws -> DeviceAddress { try base.allocate(bytes: bytes) }
    public func free(_ address: DeviceAddress) { base.free(address) }

    public func copy(_ bytes: UnsafeRawBufferPointer, to address: DeviceAddress) throws {
        try timed(Self.copyToDeviceName) { try base.copy(bytes, to: address) }
    }

    public func copy(from address: DeviceAddress, into bytes: UnsafeMutableRawBufferPointer) throws {
        try timed(Self.copyToHostName) { try base.copy(from: address, into: bytes) }
        // The copy waited for the work before it: reading those marks now costs no extra wait.
        if pending.count >= Self.collectAfter { try collect() }
    }

    public func launch(_ name: String, grid: Int, block: Int, _ arguments: [KernelArgument]) throws {
        try timed(name) { try base.launch(name, grid: grid, block: block, arguments) }
    }

    public func gemm(m: Int, n: Int, k: Int, a: DeviceAddress, transposingA: Bool, b: DeviceAddress, transposingB: Bool,
                     c: DeviceAddress) throws {
        try timed(Self.gemmName) { try base.gemm(m: m, n: n, k: k, a: a, transposingA: transposingA, b: b, transposingB: transposingB, c: c) }
        if isRecording { gemmOperations += 2 * m * n * k }
    }
}
