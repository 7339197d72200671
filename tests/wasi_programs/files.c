/* Files in a granted directory (argv[1]): create, write, read, seek,
 * stat, rename, list, remove. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char path[4096];

static const char *in(const char *dir, const char *name) {
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return path;
}

static int by_name(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void list(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) {
        printf("opendir failed\n");
        return;
    }
    char *names[64];
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < 64)
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            names[n++] = strdup(e->d_name);
    closedir(d);
    qsort(names, n, sizeof *names, by_name);
    printf("entries:");
    for (int i = 0; i < n; i++) {
        printf(" %s", names[i]);
        free(names[i]);
    }
    printf("\n");
}

int main(int argc, char **argv) {
    if (argc < 2)
        return 2;
    const char *dir = argv[1];
    printf("mkdir: %d\n", mkdir(in(dir, "sub"), 0755));
    FILE *f = fopen(in(dir, "sub/a.txt"), "w");
    for (int i = 0; i < 100; i++)
        fprintf(f, "line %d\n", i);
    fclose(f);

    f = fopen(in(dir, "sub/a.txt"), "r");
    char line[64];
    fgets(line, sizeof line, f);
    printf("first: %s", line);
    fseek(f, -8, SEEK_END);
    printf("tell: %ld\n", ftell(f));
    fgets(line, sizeof line, f);
    printf("last: %s", line);
    fclose(f);

    struct stat st;
    int stat_result = stat(in(dir, "sub/a.txt"), &st);
    printf("stat: %d size=%lld dir=%d\n", stat_result, (long long)st.st_size,
           S_ISDIR(st.st_mode));
    printf("read input: ");
    f = fopen(in(dir, "input.txt"), "r");
    while (f && fgets(line, sizeof line, f))
        printf("%s", line);
    if (f)
        fclose(f);
    char from[4096];
    snprintf(from, sizeof from, "%s", in(dir, "sub/a.txt"));
    printf("rename: %d\n", rename(from, in(dir, "sub/b.txt")));
    list(dir);
    list(in(dir, "sub"));
    int missing = access(in(dir, "nope"), F_OK);
    printf("missing: %d enoent=%d\n", missing, errno == ENOENT);
    printf("rmdir nonempty: %d\n", rmdir(in(dir, "sub")));
    printf("unlink: %d\n", unlink(in(dir, "sub/b.txt")));
    printf("rmdir: %d\n", rmdir(in(dir, "sub")));
    list(dir);
    return 0;
}
