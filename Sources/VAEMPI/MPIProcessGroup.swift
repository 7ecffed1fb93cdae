#if VAEKIT_MPI
import CMPI
import Foundation
import VAETraining

/// The ranks `mpirun` started, as a ``ProcessGroup`` over `MPI_COMM_WORLD`.
///
/// Collectives are the non-blocking MPI ones (`MPI_Iallgather`, `MPI_Iallreduce`, `MPI_Ibcast`) completed by polling
/// `MPI_Test`, so that a rank waiting longer than ``timeout`` for the others (one hung, or died where the launcher did
/// not notice) stops the job with a message instead of waiting forever. When a rank dies, `mpirun` ends the others
/// with SIGTERM: they then say so, with ``failureAdvice``, before exiting.
public final class MPIProcessGroup: ProcessGroup {
    public let rank: Int
    public let size: Int
    public let name: String
    /// Seconds a rank waits in one collective before it stops the job.
    public var timeout: Double
    public var failureAdvice: String {
        didSet { TerminationMessage.set("vae (rank \(rank) of \(size)): stopped by the MPI launcher, which ends every rank when one fails (its message is above or below) or the job is interrupted; \(failureAdvice)\n") }
    }

    /// Initialises MPI (once per process; finalised at exit).
    public init(timeout: Double = 600) {
        var initialized: Int32 = 0
        MPI_Initialized(&initialized)
        if initialized == 0 {
            // Only the main thread calls MPI (the library's own threads compute between the collectives).
            var provided: Int32 = 0
            MPI_Init_thread(nil, nil, vae_mpi_thread_funneled(), &provided)
            atexit { MPI_Finalize() }
        }
        // Errors come back as codes (`check`), to be reported with the run's advice, instead of ending the job silently.
        MPI_Comm_set_errhandler(vae_mpi_comm_world(), vae_mpi_errors_return())
        var rank: Int32 = 0, size: Int32 = 0
        MPI_Comm_rank(vae_mpi_comm_world(), &rank)
        MPI_Comm_size(vae_mpi_comm_world(), &size)
        (self.rank, self.size, self.timeout) = (Int(rank), Int(size), timeout)
        var version = [CChar](repeating: 0, count: Int(MPI_MAX_LIBRARY_VERSION_STRING) + 1)
        var length: Int32 = 0
        MPI_Get_library_version(&version, &length)
        let full = String(decoding: version.prefix(Int(length)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        name = full.split(separator: ",").first.map(String.init)?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "MPI"
        failureAdvice = ""
        TerminationMessage.install()
    }

    public func allGather(_ values: [Float]) -> [Float] { gather(values, type: vae_mpi_float(), what: "data (gradients or images)") }
    public func allGather(_ values: [Double]) -> [Double] { gather(values, type: vae_mpi_double(), what: "evaluation sums") }

    public func abort() -> Never {
        MPI_Abort(vae_mpi_comm_world(), 1)
        exit(1)
    }

    /// `count` as MPI's Int32 element count, or the job stops with a message (one message holds at most 2³¹ − 1).
    private func elements(_ count: Int, _ what: String) -> Int32 {
        guard let value = Int32(exactly: count) else {
            stop("\(what): \(count) values are more than one MPI message holds (2³¹ − 1); use fewer or smaller images (data_params.train_limit, image_size) or more ranks")
        }
        return value
    }

    public func allReduceSum(_ values: [Float]) -> [Float] {
        var result = [Float](repeating: 0, count: values.count)
        values.withUnsafeBufferPointer { send in
            result.withUnsafeMutableBufferPointer { receive in
                var request: MPI_Request? = nil
                check(MPI_Iallreduce(send.baseAddress, receive.baseAddress, elements(values.count, "the gradient sum"), vae_mpi_float(), vae_mpi_sum(),
                                     vae_mpi_comm_world(), &request), "MPI_Iallreduce")
                wait(&request, what: "the gradient sum")
            }
        }
        return result
    }

    public func broadcast(_ bytes: [UInt8]) -> [UInt8] {
        var count = [Int64(bytes.count)]
        count.withUnsafeMutableBufferPointer { buffer in
            var request: MPI_Request? = nil
            check(MPI_Ibcast(buffer.baseAddress, 1, vae_mpi_int64(), 0, vae_mpi_comm_world(), &request), "MPI_Ibcast")
            wait(&request, what: "rank 0's settings")
        }
        var result = rank == 0 ? bytes : [UInt8](repeating: 0, count: Int(count[0]))
        result.withUnsafeMutableBufferPointer { buffer in
            var request: MPI_Request? = nil
            check(MPI_Ibcast(buffer.baseAddress, elements(buffer.count, "rank 0's settings"), vae_mpi_byte(), 0, vae_mpi_comm_world(), &request), "MPI_Ibcast")
            wait(&request, what: "rank 0's settings")
        }
        return result
    }

    private func gather<Value: Numeric>(_ values: [Value], type: MPI_Datatype?, what: String) -> [Value] {
        var result = [Value](repeating: 0, count: values.count * size)
        let count = elements(values.count, "the other ranks' \(what)")
        _ = elements(values.count * size, "the other ranks' \(what)")
        values.withUnsafeBufferPointer { send in
            result.withUnsafeMutableBufferPointer { receive in
                var request: MPI_Request? = nil
                check(MPI_Iallgather(send.baseAddress, count, type, receive.baseAddress, count, type,
                                     vae_mpi_comm_world(), &request), "MPI_Iallgather")
                wait(&request, what: "the other ranks' \(what)")
            }
        }
        return result
    }

    /// Polls `request` until it completes: spinning first (a step's exchange takes microseconds to milliseconds),
    /// then sleeping between tests so that a rank waiting on a slow one leaves its core to others.
    private func wait(_ request: inout MPI_Request?, what: String) {
        let started = DispatchTime.now().uptimeNanoseconds
        var done: Int32 = 0
        var polls = 0
        while true {
            check(MPI_Test(&request, &done, vae_mpi_status_ignore()), "MPI_Test")
            if done != 0 { return }
            polls += 1
            if polls > 20_000 { usleep(polls > 200_000 ? 1000 : 50) }
            if polls % 1024 == 0 {
                let waited = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
                if waited > timeout {
                    stop("no answer from every rank after \(Int(waited)) s waiting for \(what) (the timeout: --mpi-timeout of vae train): a rank has hung or died")
                }
            }
        }
    }

    private func check(_ code: Int32, _ call: String) {
        if code != vae_mpi_success() { stop("\(call) failed with MPI error \(code)") }
    }

    /// Prints why and ends every rank.
    private func stop(_ reason: String) -> Never {
        FileHandle.standardError.write(Data("vae (rank \(rank) of \(size)): error: \(reason); \(failureAdvice)\n".utf8))
        MPI_Abort(vae_mpi_comm_world(), 1)
        exit(1)
    }
}

/// The line a rank prints when the launcher ends it with SIGTERM, kept in memory the handler can write without
/// allocating (a signal handler may only make async-signal-safe calls).
enum TerminationMessage {
    static let capacity = 4096
    nonisolated(unsafe) static let buffer = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity)
    nonisolated(unsafe) static var length = 0

    static func set(_ text: String) {
        let bytes = Array(text.utf8.prefix(capacity))
        // SIGTERM waits while the line changes, so the handler never writes half of one and half of another.
        var blocked = sigset_t(), previous = sigset_t()
        sigemptyset(&blocked)
        sigaddset(&blocked, SIGTERM)
        pthread_sigmask(SIG_BLOCK, &blocked, &previous)
        bytes.withUnsafeBufferPointer { buffer.update(from: $0.baseAddress!, count: bytes.count) }
        length = bytes.count
        pthread_sigmask(SIG_SETMASK, &previous, nil)
    }

    static func install() {
        set("vae: stopped by the MPI launcher, which ends every rank when one fails (its message is above or below) or the job is interrupted\n")
        signal(SIGTERM) { _ in
            _ = write(2, TerminationMessage.buffer, TerminationMessage.length)
            _exit(143)
        }
    }
}
#endif
