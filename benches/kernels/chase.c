/* Loops that no trip count describes: a walk around a linked list laid out
   in a random order (a do-while loop that stops when it is back at its
   start) and a scan of text for its words (a while loop that stops at a
   zero byte, with no bound check: `i < TEXT && text[i]` would make it a
   counted loop with an early exit, which is sliced). Neither can be
   charged once at its entry, so this kernel shows what loops cost that
   are charged per iteration. n walks and scans; returns a checksum. */
#include "common.h"

#define NODES 4096
#define TEXT (NODES * 4)

static u32 next[NODES];
static u32 value[NODES];
static u8 text[TEXT];

int run(int n) {
    u32 seed = 7;
    /* One cycle through every node (Sattolo's shuffle). */
    for (u32 i = 0; i < NODES; i++)
        next[i] = i;
    for (u32 i = NODES - 1; i > 0; i--) {
        u32 j = xorshift32(&seed) % i;
        u32 t = next[i];
        next[i] = next[j];
        next[j] = t;
    }
    for (u32 i = 0; i < NODES; i++)
        value[i] = xorshift32(&seed) & 0xffff;
    for (u32 i = 0; i < TEXT; i++) {
        u32 r = xorshift32(&seed);
        text[i] = (r & 15) == 0 ? 0 : (u8)('a' + (r >> 8) % 26);
    }
    /* The last byte ends the last word: the scan needs no bound check. */
    text[TEXT - 1] = 0;
    u32 sum = 0;
    for (int r = 0; r < n; r++) {
        u32 start = (u32)r % NODES, p = start, steps = 0;
        do {
            sum += value[p] ^ steps++;
            p = next[p];
        } while (p != start);
        u32 i = (u32)r % 16;
        while (i < TEXT) {
            u32 word = i;
            while (text[i])
                i++;
            sum = sum * 31 + (i - word);
            i++;
        }
    }
    return (int)sum;
}
