/* A CoreMark-style mix: each round builds a linked list of records, sorts
   it by a merge sort on the links, walks it with a small text state
   machine, and multiplies small matrices with a data-dependent clamp.
   Returns a checksum of all three parts. */
#include "common.h"

#define NODES 512
#define MAT 12

struct node {
    struct node *next;
    u32 key;
    u32 data;
};

static struct node pool[NODES];
static u8 text[NODES * 4];
static int ma[MAT][MAT], mb[MAT][MAT], mc[MAT][MAT];

static struct node *merge(struct node *a, struct node *b) {
    struct node head, *tail = &head;
    while (a && b) {
        if (a->key <= b->key) {
            tail->next = a;
            a = a->next;
        } else {
            tail->next = b;
            b = b->next;
        }
        tail = tail->next;
    }
    tail->next = a ? a : b;
    return head.next;
}

static struct node *sort_list(struct node *list) {
    /* Bottom-up merge sort: runs of width 1, 2, 4, ... */
    for (int width = 1;; width *= 2) {
        struct node *rest = list, head, *tail = &head;
        int merges = 0;
        while (rest) {
            struct node *a = rest, *b;
            int i = 1;
            while (i < width && rest->next) {
                rest = rest->next;
                i++;
            }
            b = rest->next;
            rest->next = 0;
            rest = b;
            for (i = 1; i < width && rest && rest->next; i++)
                rest = rest->next;
            if (rest) {
                struct node *next = rest->next;
                rest->next = 0;
                rest = next;
            }
            tail->next = merge(a, b);
            while (tail->next)
                tail = tail->next;
            merges++;
        }
        list = head.next;
        if (merges <= 1)
            return list;
    }
}

enum state { START, INT, FRAC, EXP, SIGN, BAD };

/* Classifies the text as CoreMark's state machine does: counts numbers,
   decimals, scientific numbers and invalid tokens, separated by ','. */
static u32 scan(const u8 *s, int len) {
    u32 counts[6] = {0};
    enum state st = START;
    for (int i = 0; i < len; i++) {
        u8 c = s[i];
        if (c == ',') {
            counts[st]++;
            st = START;
            continue;
        }
        switch (st) {
        case START:
            st = (c >= '0' && c <= '9') ? INT : (c == '+' || c == '-') ? SIGN : BAD;
            break;
        case SIGN:
            st = (c >= '0' && c <= '9') ? INT : BAD;
            break;
        case INT:
            st = c == '.' ? FRAC : (c >= '0' && c <= '9') ? INT : BAD;
            break;
        case FRAC:
            st = (c == 'e' || c == 'E') ? EXP : (c >= '0' && c <= '9') ? FRAC : BAD;
            break;
        case EXP:
            st = (c >= '0' && c <= '9') ? EXP : BAD;
            break;
        case BAD:
            break;
        }
    }
    counts[st]++;
    return counts[INT] * 7 + counts[FRAC] * 5 + counts[EXP] * 3 + counts[BAD];
}

static u32 matrix(u32 seed) {
    for (int i = 0; i < MAT; i++)
        for (int j = 0; j < MAT; j++) {
            ma[i][j] = (int)(xorshift32(&seed) & 0xff) - 128;
            mb[i][j] = (int)(xorshift32(&seed) & 0xff) - 128;
        }
    u32 sum = 0;
    for (int i = 0; i < MAT; i++)
        for (int j = 0; j < MAT; j++) {
            int acc = 0;
            for (int k = 0; k < MAT; k++)
                acc += ma[i][k] * mb[k][j];
            if (acc > 20000)
                acc = 20000;
            else if (acc < -20000)
                acc = -20000;
            mc[i][j] = acc;
            sum = sum * 17 + (u32)acc;
        }
    return sum;
}

int run(int n) {
    static const u8 alphabet[] = "0123456789.e+-,,x";
    u32 sum = 0;
    for (int r = 0; r < n; r++) {
        u32 seed = 0x2545f491u + (u32)r;
        for (int i = 0; i < NODES; i++) {
            pool[i].next = i + 1 < NODES ? &pool[i + 1] : 0;
            pool[i].key = xorshift32(&seed) % 1000;
            pool[i].data = (u32)i;
        }
        struct node *list = sort_list(&pool[0]);
        u32 prev = 0;
        for (struct node *p = list; p; p = p->next) {
            if (p->key < prev)
                return -1;
            prev = p->key;
            sum = sum * 31 + p->data;
        }
        for (int i = 0; i < NODES * 4; i++)
            text[i] = alphabet[xorshift32(&seed) % (sizeof alphabet - 1)];
        sum += scan(text, NODES * 4);
        sum ^= matrix(seed);
    }
    return (int)sum;
}
