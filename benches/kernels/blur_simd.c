/* A 3x3 box blur of a 256x256 8-bit image, n passes, written with wasm
   SIMD intrinsics (built with -msimd128): 16 pixels at a time, widened to
   16-bit lanes, summed, divided by 9 with a widening multiply and a shift,
   and narrowed back, from one buffer into the other; the border stays as
   it is. Returns a checksum of the last image. */
#include <wasm_simd128.h>

#include "common.h"

#define W 256
#define H 256

static u8 images[2][H][W];

/* x / 9 for 16-bit lanes x <= 9 * 255: (x * 7282) >> 16, exact there. */
static v128_t div9(v128_t x) {
    v128_t k = wasm_i16x8_splat(7282);
    v128_t lo = wasm_u32x4_shr(wasm_u32x4_extmul_low_u16x8(x, k), 16);
    v128_t hi = wasm_u32x4_shr(wasm_u32x4_extmul_high_u16x8(x, k), 16);
    return wasm_u16x8_narrow_i32x4(lo, hi);
}

/* Adds the 16 pixels at row[x-1..], row[x..] and row[x+1..] into the
   16-bit sums of the low and high halves. */
static void add_row(const u8 *row, int x, v128_t *lo, v128_t *hi) {
    for (int dx = -1; dx <= 1; dx++) {
        v128_t v = wasm_v128_load(row + x + dx);
        *lo = wasm_i16x8_add(*lo, wasm_u16x8_extend_low_u8x16(v));
        *hi = wasm_i16x8_add(*hi, wasm_u16x8_extend_high_u8x16(v));
    }
}

/* Blurs the 16-pixel columns 16..W-17 of `src` into `dst`. */
static void blur(u8 (*src)[W], u8 (*dst)[W]) {
    for (int y = 1; y < H - 1; y++) {
        for (int x = 16; x < W - 16; x += 16) {
            v128_t lo = wasm_i16x8_splat(0), hi = wasm_i16x8_splat(0);
            for (int dy = -1; dy <= 1; dy++)
                add_row(src[y + dy], x, &lo, &hi);
            wasm_v128_store(&dst[y][x], wasm_u8x16_narrow_i16x8(div9(lo), div9(hi)));
        }
    }
}

int run(int n) {
    u32 seed = 2463534242u;
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++)
            images[0][y][x] = images[1][y][x] = (u8)xorshift32(&seed);
    for (int r = 0; r < n; r++) {
        blur(images[r & 1], images[(r + 1) & 1]);
        images[(r + 1) & 1][r % H][(r * 13) % W] ^= 0x5a;
    }
    u32 sum = 0;
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++)
            sum = sum * 31 + images[n & 1][y][x];
    return (int)sum;
}
