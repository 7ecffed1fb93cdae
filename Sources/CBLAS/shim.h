#include <cblas.h>
// OpenBLAS extensions: thread count control (used for reproducible runs).
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);
char *openblas_get_config(void);
char *openblas_get_corename(void);
// glibc's allocator tuning (Runtime.configureAllocator).
#include <malloc.h>
