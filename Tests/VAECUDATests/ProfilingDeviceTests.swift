import Foundation
import Testing
import VAECUDA
import VAETensor

/// ``ProfilingDevice`` over the emulated device, whose clock is the host's (it runs each op before returning): every
/// launch, GEMM and copy of a recorded stretch is timed once, by name, and the summary splits the span.
@Suite(.serialized, .enabled(if: emulatorAvailable, "no C++ compiler to emulate the kernels"))
struct ProfilingDeviceTests {
    @Test func everyOpOfARecordedStepIsTimedOnceByName() throws {
        let profiler = ProfilingDevice(ClockedDevice(EmulatedDevice(try KernelEmulator.shared.get())))
        let caching = CachingDevice(profiler)
        let backend = CUDABackend(ops: DeviceOps(device: caching, blockSize: 64, maximumBlocks: 2))
        var random = RandomStream(seed: 5, name: "profile")
        let (weight, input) = (random.normal(shape: [6, 4]).moved(to: backend), random.uniform(shape: [3, 6]))
        func step() -> Float {
            let tape = GradientTape()
            return tape.recording {
                let w = tape.watch(weight)
                let loss = (input.moved(to: backend).matmul(w).relu().sum(alongAxis: 1).exp()).sum()
                _ = tape.gradients(of: loss, withRespectTo: [w])
                return loss.scalar
            }
        }
        _ = step()
        #expect(profiler.entries.isEmpty, "nothing is timed before recording starts")
        let (launches, gemms, toDevice, toHost) = (caching.launchesByKernel, caching.gemms, caching.copiesToDevice, caching.copiesToHost)
        profiler.isRecording = true
        _ = step()
        _ = step()
        profiler.isRecording = false
        try profiler.collect()
        let newLaunches = caching.launchesByKernel.merging(launches.mapValues { -$0 }, uniquingKeysWith: +).filter { $0.value != 0 }
        var expected = newLaunches.mapValues { $0 }
        expected[ProfilingDevice.gemmName] = caching.gemms - gemms
        expected[ProfilingDevice.copyToDeviceName] = caching.copiesToDevice - toDevice
        expected[ProfilingDevice.copyToHostName] = caching.copiesToHost - toHost
        #expect(profiler.entries.mapValues(\.count) == expected.filter { $0.value != 0 })
        #expect(profiler.entries.values.allSatisfy { $0.seconds >= 0 } && profiler.busySeconds <= profiler.spanSeconds)
        #expect(profiler.gemmOperations == 2 * 2 * (2 * 3 * 6 * 4), "two steps of one forward and one gradient GEMM")
        let summary = profiler.summary(steps: 2)
        #expect(summary.count == 2 && summary[0].contains("GEMMs") && summary[1].contains("vae_relu"), "\(summary)")
        profiler.reset()
        #expect(profiler.entries.isEmpty && profiler.spanSeconds == 0)
    }
}

/// A device with the host's clock: exact for a device that finishes each op before returning (the emulator).
final class ClockedDevice: ForwardingDevice, DeviceClock {
    var marks: [UInt64: UInt64] = [:]
    var next: UInt64 = 1

    func recordMark() throws -> DeviceMark {
        defer { next += 1 }
        marks[next] = DispatchTime.now().uptimeNanoseconds
        return DeviceMark(next)
    }
    func seconds(from start: DeviceMark, to end: DeviceMark) throws -> Double {
        guard let first = marks[start.rawValue], let last = marks[end.rawValue] else { throw CUDAError("unknown mark") }
        return Double(last - first) / 1e9
    }
    func releaseMark(_ mark: DeviceMark) { marks[mark.rawValue] = nil }
}
