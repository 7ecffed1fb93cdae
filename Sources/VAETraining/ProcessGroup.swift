import Foundation

/// The processes one training run is spread over, and the collectives the trainer needs from them: MPI ranks
/// started by `mpirun` (`MPIProcessGroup` in the VAEMPI module, built with the MPI trait), or this process alone
/// (``SingleProcess``). Every rank calls the collectives in the same order with the same counts. A collective that
/// fails, or waits longer than the group's timeout for another rank, does not return: the process prints what
/// happened with ``failureAdvice`` and the whole job stops (`MPI_Abort`), since the ranks can no longer agree.
///
/// The trainer splits each batch's rows across the ranks (and each rank's rows across its threads), exchanges the
/// gradients with `allGather(_:)` and adds them in rank order, so that N ranks of one thread give the bits
/// of one process with N threads (see `Trainer`).
public protocol ProcessGroup: AnyObject {
    /// This process's index, 0 ..< ``size``; rank 0 writes the run directory.
    var rank: Int { get }
    /// Number of processes.
    var size: Int { get }
    /// What runs the ranks, for the log ("Open MPI v4.1.4").
    var name: String { get }
    /// What a stopped job should tell the user about the run: where its last checkpoint is and how to resume.
    var failureAdvice: String { get set }
    /// Every rank's `values` (the same count on each rank), concatenated in rank order.
    func allGather(_ values: [Float]) -> [Float]
    /// Every rank's `values`, concatenated in rank order.
    func allGather(_ values: [Double]) -> [Double]
    /// The element-wise sum over the ranks in the MPI library's order (`MPI_Allreduce`): fewer bytes than
    /// `allGather(_:)` for many ranks, but the order of the additions is the library's, not fixed.
    func allReduceSum(_ values: [Float]) -> [Float]
    /// Rank 0's `bytes`, on every rank.
    func broadcast(_ bytes: [UInt8]) -> [UInt8]
    /// Ends every rank after this one failed (it has printed why), so that the others do not wait for it.
    func abort() -> Never
}

/// This process alone: every collective returns its input.
public final class SingleProcess: ProcessGroup {
    public init() {}
    public var rank: Int { 0 }
    public var size: Int { 1 }
    public var name: String { "one process" }
    public var failureAdvice = ""
    public func allGather(_ values: [Float]) -> [Float] { values }
    public func allGather(_ values: [Double]) -> [Double] { values }
    public func allReduceSum(_ values: [Float]) -> [Float] { values }
    public func broadcast(_ bytes: [UInt8]) -> [UInt8] { bytes }
    public func abort() -> Never { exit(1) }
}

/// How the ranks' gradients are added.
public enum RankReduction: String, CaseIterable, Sendable {
    /// Every rank receives every rank's gradient and adds them in rank order: the sum one process with the same
    /// shards computes, bit for bit, and the same on every rank.
    case ordered
    /// `MPI_Allreduce` with `MPI_SUM`: (N − 1)/N as many bytes received per rank for large N, in an order of
    /// additions the MPI library picks (Open MPI's is fixed for a given N and message size, but not documented).
    case allreduce
}

/// The ranks `mpirun` (or another MPI launcher) says this process is one of, from the environment it sets, before
/// any MPI call: lets a build without MPI refuse to run as one of several copies.
public enum MPILaunch {
    /// The number of ranks the launcher started (Open MPI's `OMPI_COMM_WORLD_SIZE`, MPICH/Hydra's and Slurm's
    /// PMI's `PMI_SIZE`), or 1 when none did.
    public static var ranks: Int {
        let environment = ProcessInfo.processInfo.environment
        for key in ["OMPI_COMM_WORLD_SIZE", "PMI_SIZE"] {
            if let value = environment[key], let ranks = Int(value), ranks > 0 { return ranks }
        }
        return 1
    }

    /// The message of a build without MPI started as one of `ranks` > 1 processes.
    public static func notBuiltMessage(ranks: Int) -> String {
        "this `vae` was started as one of \(ranks) MPI ranks, but it was built without MPI; build it with "
            + "`scripts/setup.sh --mpi && swift build -c release --traits MPI` and start that binary with mpirun "
            + "(each of the \(ranks) copies would otherwise train alone and write the same run directory)"
    }
}
