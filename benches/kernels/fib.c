/* Naive recursive Fibonacci: fib(n) makes about 1.6^n calls, so this
   kernel measures what metering adds to calls and function entries.
   Returns fib(n) modulo 2^32. */
#include "common.h"

static u32 fib(int n) { return n < 2 ? (u32)n : fib(n - 1) + fib(n - 2); }

int run(int n) { return (int)fib(n); }
