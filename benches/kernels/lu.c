/* LU decomposition with partial pivoting of a random 120 x 120 matrix of
   doubles, then a solve against a known right-hand side. n rounds with
   different matrices; returns a checksum of the solution. */
#include "common.h"

#define N 120

static double a[N][N], b[N], x[N];
static int perm[N];

static double fabs_(double v) { return v < 0 ? -v : v; }

int run(int n) {
    u32 sum = 0;
    for (int r = 0; r < n; r++) {
        u32 seed = 777u + (u32)r;
        for (int i = 0; i < N; i++) {
            for (int j = 0; j < N; j++)
                a[i][j] = (double)(xorshift32(&seed) % 2001) / 1000.0 - 1.0;
            a[i][i] += 4.0;
            b[i] = (double)(i % 7) - 3.0;
            perm[i] = i;
        }
        for (int k = 0; k < N; k++) {
            int p = k;
            double best = fabs_(a[k][k]);
            for (int i = k + 1; i < N; i++)
                if (fabs_(a[i][k]) > best) {
                    best = fabs_(a[i][k]);
                    p = i;
                }
            if (p != k) {
                for (int j = 0; j < N; j++) {
                    double t = a[k][j];
                    a[k][j] = a[p][j];
                    a[p][j] = t;
                }
                int t = perm[k];
                perm[k] = perm[p];
                perm[p] = t;
            }
            for (int i = k + 1; i < N; i++) {
                double f = a[i][k] / a[k][k];
                a[i][k] = f;
                for (int j = k + 1; j < N; j++)
                    a[i][j] -= f * a[k][j];
            }
        }
        for (int i = 0; i < N; i++) {
            double s = b[perm[i]];
            for (int j = 0; j < i; j++)
                s -= a[i][j] * x[j];
            x[i] = s;
        }
        for (int i = N - 1; i >= 0; i--) {
            double s = x[i];
            for (int j = i + 1; j < N; j++)
                s -= a[i][j] * x[j];
            x[i] = s / a[i][i];
        }
        for (int i = 0; i < N; i++)
            sum = sum * 31 + (u32)(int)(x[i] * 1e6);
    }
    return (int)sum;
}
