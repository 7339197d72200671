/* Sieve of Eratosthenes over bytes, n rounds with limits just under 4 Mi
   (a different limit each round). Returns a checksum of the prime counts. */
#include "common.h"

#define LIMIT (1 << 22)

static u8 composite[LIMIT];

static u32 count_primes(int limit) {
    /* Even numbers start out composite; 2 is counted separately. */
    for (int i = 0; i < limit; i++)
        composite[i] = (u8)(~i & 1);
    for (int i = 3; i * i < limit; i += 2)
        if (!composite[i])
            for (int j = i * i; j < limit; j += 2 * i)
                composite[j] = 1;
    u32 count = 1;
    for (int i = 3; i < limit; i += 2)
        count += !composite[i];
    return count;
}

int run(int n) {
    u32 sum = 0;
    for (int r = 0; r < n; r++)
        sum = sum * 31 + count_primes(LIMIT - 1000 * r);
    return (int)sum;
}
