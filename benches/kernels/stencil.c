/* A 2-D heat stencil on a 256 x 256 grid with fixed hot cells: each step
   averages the four neighbours, keeps fixed cells, clamps at a ceiling and
   counts the cells that changed. n steps; returns a checksum. */
#include "common.h"

#define N 256

static int grid[2][N][N];
static u8 fixed[N][N];

int run(int n) {
    u32 seed = 12345;
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++) {
            u32 r = xorshift32(&seed);
            fixed[i][j] = (r & 63) == 0;
            grid[0][i][j] = grid[1][i][j] = fixed[i][j] ? 1 << 20 : 0;
        }
    u32 changed = 0;
    for (int s = 0; s < n; s++) {
        int(*from)[N] = grid[s & 1], (*to)[N] = grid[(s + 1) & 1];
        for (int i = 1; i < N - 1; i++)
            for (int j = 1; j < N - 1; j++) {
                if (fixed[i][j])
                    continue;
                int v = (from[i - 1][j] + from[i + 1][j] + from[i][j - 1] + from[i][j + 1]) >> 2;
                if (v > (1 << 19))
                    v = 1 << 19;
                if (v != from[i][j])
                    changed++;
                to[i][j] = v;
            }
    }
    u32 sum = changed;
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++)
            sum = sum * 31 + (u32)grid[n & 1][i][j];
    return (int)sum;
}
