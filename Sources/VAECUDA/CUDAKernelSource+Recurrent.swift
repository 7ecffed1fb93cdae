extension CUDAKernelSource {
    /// The recurrent cells (`Tensor.gruCell`, `Tensor.lstmCell`): a time step's gate arithmetic in one kernel, and its
    /// gradient in one more that recomputes the gates from the same inputs rather than keeping them.
    static let recurrent = #"""
// ---- Recurrent cells: thread i is element (row, j) of the [rows, hidden] state; a row's gates are 3 (GRU: r, z,
// n) or 4 (LSTM: i, f, g, o) consecutive blocks of `hidden` in x and h, the input's and the state's gate products. ----
extern "C" __global__ void vae_gru_cell(long long n, long long hidden, const float *__restrict__ x,
                                        const float *__restrict__ h, const float *__restrict__ state,
                                        float *__restrict__ y) {
    VAE_LOOP(i, n) {
        long long a = (i / hidden) * 3 * hidden + i % hidden, b = a + hidden, c = b + hidden;
        float r = vae_sigmoid(x[a] + h[a]), z = vae_sigmoid(x[b] + h[b]), m = tanhf(x[c] + r * h[c]);
        y[i] = m + z * (state[i] - m);
    }
}
// From dy: the gates' pre-activation gradients dr, dz, dm go to x; to h the same but r·dm for the candidate's; the
// state's is dy·z.
extern "C" __global__ void vae_gru_cell_gradient(long long n, long long hidden, const float *__restrict__ g,
                                                 const float *__restrict__ x, const float *__restrict__ h,
                                                 const float *__restrict__ state, float *__restrict__ dx,
                                                 float *__restrict__ dh, float *__restrict__ dstate) {
    VAE_LOOP(i, n) {
        long long a = (i / hidden) * 3 * hidden + i % hidden, b = a + hidden, c = b + hidden;
        float r = vae_sigmoid(x[a] + h[a]), z = vae_sigmoid(x[b] + h[b]), m = tanhf(x[c] + r * h[c]);
        float gi = g[i];
        float dm = gi * (1.0f - z) * (1.0f - m * m);
        float dz = gi * (state[i] - m) * z * (1.0f - z);
        float dr = dm * h[c] * r * (1.0f - r);
        dx[a] = dr; dx[b] = dz; dx[c] = dm;
        dh[a] = dr; dh[b] = dz; dh[c] = dm * r;
        dstate[i] = gi * z;
    }
}
// y[0] = h' = σ(o)·tanh(c'), y[1] = c' = σ(f)·c + σ(i)·tanh(g) ([2, rows, hidden]).
extern "C" __global__ void vae_lstm_cell(long long n, long long hidden, const float *__restrict__ x,
                                         const float *__restrict__ h, const float *__restrict__ cell,
                                         float *__restrict__ y) {
    VAE_LOOP(i, n) {
        long long a = (i / hidden) * 4 * hidden + i % hidden, b = a + hidden, c = b + hidden, d = c + hidden;
        float in = vae_sigmoid(x[a] + h[a]), f = vae_sigmoid(x[b] + h[b]);
        float m = tanhf(x[c] + h[c]), o = vae_sigmoid(x[d] + h[d]);
        float next = f * cell[i] + in * m;
        y[i] = o * tanhf(next);
        y[n + i] = next;
    }
}
// From g = [dh', dc'] ([2, rows, hidden]): the gates' pre-activation gradients (the same for x and h) and dc.
extern "C" __global__ void vae_lstm_cell_gradient(long long n, long long hidden, const float *__restrict__ g,
                                                  const float *__restrict__ x, const float *__restrict__ h,
                                                  const float *__restrict__ cell, float *__restrict__ dgates,
                                                  float *__restrict__ dcell) {
    VAE_LOOP(i, n) {
        long long a = (i / hidden) * 4 * hidden + i % hidden, b = a + hidden, c = b + hidden, d = c + hidden;
        float in = vae_sigmoid(x[a] + h[a]), f = vae_sigmoid(x[b] + h[b]);
        float m = tanhf(x[c] + h[c]), o = vae_sigmoid(x[d] + h[d]);
        float t = tanhf(f * cell[i] + in * m);
        float dnext = g[n + i] + g[i] * o * (1.0f - t * t);
        dgates[a] = dnext * m * in * (1.0f - in);
        dgates[b] = dnext * cell[i] * f * (1.0f - f);
        dgates[c] = dnext * in * (1.0f - m * m);
        dgates[d] = g[i] * t * o * (1.0f - o);
        dcell[i] = dnext * f;
    }
}
"""#
}
