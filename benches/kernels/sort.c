/* Quicksort (median of three, insertion sort below 16 elements) of 256 Ki
   pseudo-random integers, n rounds with different seeds. Returns a checksum
   of the sorted arrays, or -1 if one is not sorted. */
#include "common.h"

#define LEN (1 << 18)

static int data[LEN];

static inline void swap(int *x, int *y) {
    int t = *x;
    *x = *y;
    *y = t;
}

static void insertion_sort(int *a, int len) {
    for (int i = 1; i < len; i++) {
        int v = a[i], j = i;
        for (; j > 0 && a[j - 1] > v; j--)
            a[j] = a[j - 1];
        a[j] = v;
    }
}

static void quicksort(int *a, int len) {
    while (len > 16) {
        int mid = len / 2, last = len - 1;
        if (a[mid] < a[0])
            swap(&a[mid], &a[0]);
        if (a[last] < a[0])
            swap(&a[last], &a[0]);
        if (a[last] < a[mid])
            swap(&a[last], &a[mid]);
        int pivot = a[mid], i = 0, j = last;
        for (;;) {
            while (a[i] < pivot)
                i++;
            while (a[j] > pivot)
                j--;
            if (i >= j)
                break;
            swap(&a[i], &a[j]);
            i++;
            j--;
        }
        /* Recurse into the smaller side, loop on the larger one. */
        if (j + 1 < len - j - 1) {
            quicksort(a, j + 1);
            a += j + 1;
            len -= j + 1;
        } else {
            quicksort(a + j + 1, len - j - 1);
            len = j + 1;
        }
    }
    insertion_sort(a, len);
}

int run(int n) {
    u32 sum = 0;
    for (int r = 0; r < n; r++) {
        u32 seed = 0x9e3779b9u + (u32)r;
        for (int i = 0; i < LEN; i++)
            data[i] = (int)(xorshift32(&seed) >> 1);
        quicksort(data, LEN);
        for (int i = 0; i < LEN; i++) {
            if (i > 0 && data[i - 1] > data[i])
                return -1;
            sum = sum * 31 + (u32)data[i];
        }
    }
    return (int)sum;
}
