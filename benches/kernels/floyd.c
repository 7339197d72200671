/* All-pairs shortest paths (Floyd-Warshall) on a random sparse graph of
   160 nodes: the triple loop with a conditional minimum update. n rounds
   with different graphs; returns a checksum of the distances. */
#include "common.h"

#define V 160
#define INF 0x3fffffff

static int dist[V][V];

int run(int n) {
    u32 sum = 0;
    for (int r = 0; r < n; r++) {
        u32 seed = 0x9e3779b9u ^ (u32)r;
        for (int i = 0; i < V; i++)
            for (int j = 0; j < V; j++) {
                u32 x = xorshift32(&seed);
                dist[i][j] = i == j ? 0 : (x & 7) == 0 ? (int)(x >> 8) % 1000 + 1 : INF;
            }
        for (int k = 0; k < V; k++)
            for (int i = 0; i < V; i++) {
                int dik = dist[i][k];
                if (dik == INF)
                    continue;
                for (int j = 0; j < V; j++) {
                    int d = dik + dist[k][j];
                    if (d < dist[i][j])
                        dist[i][j] = d;
                }
            }
        for (int i = 0; i < V; i++)
            for (int j = 0; j < V; j++)
                sum = sum * 31 + (u32)dist[i][j];
    }
    return (int)sum;
}
