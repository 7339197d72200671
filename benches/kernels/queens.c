/* Recursion with backtracking: counts the solutions of the n-queens
   problem on a 10 x 10 board with bit masks, n times, and a recursive
   Ackermann-style function for deep call chains. Returns a checksum. */
#include "common.h"

static int solve(u32 cols, u32 diag1, u32 diag2, u32 full) {
    if (cols == full)
        return 1;
    int count = 0;
    u32 free = ~(cols | diag1 | diag2) & full;
    while (free) {
        u32 bit = free & -free;
        free ^= bit;
        count += solve(cols | bit, (diag1 | bit) << 1, (diag2 | bit) >> 1, full);
    }
    return count;
}

static int ackermann(int m, int k) {
    if (m == 0)
        return k + 1;
    if (k == 0)
        return ackermann(m - 1, 1);
    return ackermann(m - 1, ackermann(m, k - 1));
}

int run(int n) {
    u32 sum = 0;
    for (int r = 0; r < n; r++) {
        sum = sum * 31 + (u32)solve(0, 0, 0, (1u << 10) - 1);
        sum = sum * 31 + (u32)ackermann(2, 200 + (r & 7));
    }
    return (int)sum;
}
