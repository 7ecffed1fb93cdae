#include <mpi.h>
// Open MPI's handles (MPI_COMM_WORLD, MPI_FLOAT, …) are macros over addresses of global objects, which Swift does
// not import: these functions return them.
static inline MPI_Comm vae_mpi_comm_world(void) { return MPI_COMM_WORLD; }
static inline MPI_Datatype vae_mpi_float(void) { return MPI_FLOAT; }
static inline MPI_Datatype vae_mpi_double(void) { return MPI_DOUBLE; }
static inline MPI_Datatype vae_mpi_byte(void) { return MPI_BYTE; }
static inline MPI_Datatype vae_mpi_int64(void) { return MPI_INT64_T; }
static inline MPI_Op vae_mpi_sum(void) { return MPI_SUM; }
static inline MPI_Status *vae_mpi_status_ignore(void) { return MPI_STATUS_IGNORE; }
static inline int vae_mpi_success(void) { return MPI_SUCCESS; }
static inline int vae_mpi_thread_funneled(void) { return MPI_THREAD_FUNNELED; }
static inline MPI_Errhandler vae_mpi_errors_return(void) { return MPI_ERRORS_RETURN; }
