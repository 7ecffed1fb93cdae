import VAETraining
#if VAEKIT_MPI
import VAEMPI
#endif

/// The ranks this process is one of, once a command started them: an error on one rank ends all (`fail(_:)`), where
/// the others would wait for it in their next exchange until the timeout.
nonisolated(unsafe) var runningGroup: (any ProcessGroup)?

/// The processes a command runs as: the MPI ranks when started by mpirun with more than one (only in a build with the
/// MPI trait; a build without it refuses to run as one of several copies), else this process. `timeout`: seconds a
/// rank waits for the others in one collective before it stops the job.
func processGroup(timeout: Double) throws -> any ProcessGroup {
    let ranks = MPILaunch.ranks
    guard ranks > 1 else { return SingleProcess() }
    #if VAEKIT_MPI
    let group = MPIProcessGroup(timeout: timeout)
    runningGroup = group
    return group
    #else
    throw TrainingError(MPILaunch.notBuiltMessage(ranks: ranks))
    #endif
}
