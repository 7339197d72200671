/* Pure computation through libc: malloc, qsort, 64-bit arithmetic,
 * string formatting and parsing, correctly rounded floating point. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int compare(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

int main(void) {
    enum { N = 20000 };
    uint32_t *v = malloc(N * sizeof *v);
    uint64_t state = 42;
    for (int i = 0; i < N; i++) {
        state = state * 6364136223846793005ULL + 1442695040888963407ULL;
        v[i] = (uint32_t)(state >> 33);
    }
    qsort(v, N, sizeof *v, compare);
    uint64_t hash = 1469598103934665603ULL;
    for (int i = 0; i < N; i++)
        hash = (hash ^ v[i]) * 1099511628211ULL;
    printf("min=%u max=%u median=%u hash=%llx\n", v[0], v[N - 1], v[N / 2],
           (unsigned long long)hash);
    free(v);

    char *blocks[100];
    size_t total = 0;
    for (int i = 0; i < 100; i++) {
        blocks[i] = malloc(1000 + i * 37);
        memset(blocks[i], i, 1000 + i * 37);
        total += 1000 + i * 37;
    }
    long sum = 0;
    for (int i = 0; i < 100; i++) {
        sum += blocks[i][999];
        free(blocks[i]);
    }
    printf("allocated=%zu sum=%ld\n", total, sum);

    double x = 0.0;
    for (int i = 1; i <= 1000; i++)
        x += sqrt((double)i) / i;
    printf("%.17g %.6e %g\n", x, x * 1e-300, strtod("6.02214076e23", NULL));
    char buffer[64];
    snprintf(buffer, sizeof buffer, "%08.3f|%-6d|%x", 3.14159, -42, 0xbeefu);
    printf("%s %lld\n", buffer, strtoll("-9223372036854775807", NULL, 10));
    printf("%lld %llu\n", (long long)INT64_MIN / 3, (unsigned long long)UINT64_MAX / 7);
    return 0;
}
