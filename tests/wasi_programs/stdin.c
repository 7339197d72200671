/* Standard input to standard output: counts lines and bytes, upper-cases. */
#include <ctype.h>
#include <stdio.h>

int main(void) {
    int c, lines = 0, bytes = 0;
    while ((c = getchar()) != EOF) {
        bytes++;
        lines += c == '\n';
        putchar(toupper(c));
    }
    printf("lines=%d bytes=%d\n", lines, bytes);
    return 0;
}
