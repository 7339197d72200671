/* Shared by the fuel benchmark kernels: fixed-width types and a
   deterministic PRNG (xorshift32), so every kernel builds its input without
   libc and returns the same checksum on every run. */
#ifndef FUELC_BENCH_COMMON_H
#define FUELC_BENCH_COMMON_H

typedef unsigned char u8;
typedef unsigned int u32;
typedef unsigned long long u64;

static inline u32 xorshift32(u32 *state) {
    u32 x = *state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    *state = x;
    return x;
}

#endif
