#include <cblas.h>
// OpenBLAS extensions: thread count control (used for reproducible runs).
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);
char *openblas_get_config(void);
char *openblas_get_corename(void);
// glibc's allocator tuning (Runtime.configureAllocator).
#include <malloc.h>
// Sixteen IEEE square roots with sqrtps. Swift's Float.squareRoot() on Linux keeps libm's errno branch per lane,
// which stops SIMD16<Float>.squareRoot() from vectorising (Adam's update spent most of its time there);
// the results are bit-identical to it.
#if defined(__SSE__)
#include <xmmintrin.h>
static inline void vae_square_roots16(float *values) {
    for (int i = 0; i < 16; i += 4) _mm_storeu_ps(values + i, _mm_sqrt_ps(_mm_loadu_ps(values + i)));
}
#endif
