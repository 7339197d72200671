/* Dense matrix multiply: C = A * B on 128x128 doubles, n times. Between
   rounds one element of A is nudged by a value read from C, so no round can
   be skipped. Returns a checksum of C. */
#include "common.h"

#define N 128

static double a[N][N], b[N][N], c[N][N];

static void fill(double m[N][N], u32 seed) {
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++)
            m[i][j] = (double)(xorshift32(&seed) % 2000) / 1000.0 - 1.0;
}

static void multiply(void) {
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++) {
            double acc = 0.0;
            for (int k = 0; k < N; k++)
                acc += a[i][k] * b[k][j];
            c[i][j] = acc;
        }
}

int run(int n) {
    fill(a, 12345);
    fill(b, 67890);
    for (int r = 0; r < n; r++) {
        multiply();
        a[r % N][(r * 7) % N] += c[N - 1 - r % N][r % N] * 1e-3;
    }
    u32 sum = 0;
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++)
            sum = sum * 31 + (u32)(long long)(c[i][j] * 1024.0);
    return (int)sum;
}
