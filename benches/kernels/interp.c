/* A small stack-based bytecode interpreter (one switch per instruction)
   running a hash loop of n iterations written in its bytecode. Returns the
   program's result. */
#include "common.h"

enum op { PUSH, LOAD, STORE, ADD, MUL, XOR, SHR, LT, JZ, JMP, HALT };

/* Locals: 0 = acc, 1 = i, 2 = n.
     acc = 0; i = 0;
     while (i < n) { acc = (acc * 31 + i) ^ (acc >> 7); i = i + 1; }
     return acc;
   Not const, so the compiler cannot specialize the interpreter for it. */
static int program[] = {
    PUSH, 0, STORE, 0,
    PUSH, 0, STORE, 1,
    /* 8: loop */
    LOAD, 1, LOAD, 2, LT, JZ, 42,
    LOAD, 0, PUSH, 31, MUL, LOAD, 1, ADD, LOAD, 0, PUSH, 7, SHR, XOR, STORE, 0,
    LOAD, 1, PUSH, 1, ADD, STORE, 1,
    JMP, 8,
    /* 40: unreachable padding, so the exit is not the next instruction */
    HALT, HALT,
    /* 42: exit */
    LOAD, 0, HALT,
};

static u32 execute(const int *code, u32 n) {
    u32 stack[16], locals[3] = {0, 0, n};
    int sp = 0, pc = 0;
    for (;;) {
        switch (code[pc++]) {
        case PUSH:
            stack[sp++] = (u32)code[pc++];
            break;
        case LOAD:
            stack[sp++] = locals[code[pc++]];
            break;
        case STORE:
            locals[code[pc++]] = stack[--sp];
            break;
        case ADD:
            sp--;
            stack[sp - 1] += stack[sp];
            break;
        case MUL:
            sp--;
            stack[sp - 1] *= stack[sp];
            break;
        case XOR:
            sp--;
            stack[sp - 1] ^= stack[sp];
            break;
        case SHR:
            sp--;
            stack[sp - 1] >>= stack[sp];
            break;
        case LT:
            sp--;
            stack[sp - 1] = stack[sp - 1] < stack[sp];
            break;
        case JZ:
            if (stack[--sp] == 0)
                pc = code[pc];
            else
                pc++;
            break;
        case JMP:
            pc = code[pc];
            break;
        default:
            return stack[sp - 1];
        }
    }
}

int run(int n) { return (int)execute(program, (u32)n); }
