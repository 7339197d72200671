/* String search (Boyer-Moore-Horspool) in 1 MiB of pseudo-random DNA-like
   text: n rounds, each counting the occurrences of a different pattern of
   4 to 16 letters. Returns a checksum of the counts. */
#include "common.h"

#define TEXT_LEN (1 << 20)
#define MAX_PATTERN 16

static u8 text[TEXT_LEN];

static u32 count(const u8 *pattern, int m) {
    int skip[256];
    for (int c = 0; c < 256; c++)
        skip[c] = m;
    for (int i = 0; i < m - 1; i++)
        skip[pattern[i]] = m - 1 - i;
    u32 found = 0;
    for (int pos = 0; pos <= TEXT_LEN - m; pos += skip[text[pos + m - 1]]) {
        int i = m - 1;
        while (i >= 0 && text[pos + i] == pattern[i])
            i--;
        found += i < 0;
    }
    return found;
}

int run(int n) {
    static const u8 letters[4] = {'a', 'c', 'g', 't'};
    u32 seed = 88172645u;
    for (int i = 0; i < TEXT_LEN; i++)
        text[i] = letters[xorshift32(&seed) & 3];
    u32 sum = 0;
    for (int r = 0; r < n; r++) {
        u8 pattern[MAX_PATTERN];
        int m = 4 + r % (MAX_PATTERN - 3);
        for (int i = 0; i < m; i++)
            pattern[i] = letters[xorshift32(&seed) & 3];
        sum = sum * 31 + count(pattern, m);
    }
    return (int)sum;
}
