import VAETraining
#if VAEKIT_MPI
import VAEMPI
#endif

/// The processes a command runs as: the MPI ranks when started by mpirun with more than one (only in a build with the
/// MPI trait; a build without it refuses to run as one of several copies), else this process. `timeout`: seconds a
/// rank waits for the others in one collective before it stops the job.
func processGroup(timeout: Double) throws -> any ProcessGroup {
    let ranks = MPILaunch.ranks
    guard ranks > 1 else { return SingleProcess() }
    #if VAEKIT_MPI
    return MPIProcessGroup(timeout: timeout)
    #else
    throw TrainingError(MPILaunch.notBuiltMessage(ranks: ranks))
    #endif
}
