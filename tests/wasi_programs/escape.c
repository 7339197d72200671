/* Tries to leave the granted directory (argv[1]) in every way a path can;
 * prints "opened" or "refused" for each attempt. Under fuelc every escape
 * must be refused, and the inside paths must open. */
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

static void attempt(const char *label, const char *dir, const char *name) {
    char path[4096];
    if (name[0] == '/')
        snprintf(path, sizeof path, "%s", name);
    else
        snprintf(path, sizeof path, "%s/%s", dir, name);
    int fd = open(path, O_RDONLY);
    printf("%s: %s\n", label, fd >= 0 ? "opened" : "refused");
    if (fd >= 0)
        close(fd);
}

int main(int argc, char **argv) {
    if (argc < 2)
        return 2;
    const char *dir = argv[1];
    attempt("inside", dir, "inside/ok.txt");
    attempt("inside via dotdot", dir, "inside/../inside/ok.txt");
    attempt("inside via symlink", dir, "link_inside");
    attempt("dotdot", dir, "../secret.txt");
    attempt("nested dotdot", dir, "inside/../../secret.txt");
    attempt("absolute", dir, "/etc/passwd");
    attempt("symlink to dotdot", dir, "link_up");
    attempt("symlink to absolute", dir, "link_absolute");
    attempt("symlink dir escape", dir, "link_parent_dir/secret.txt");
    attempt("symlink loop", dir, "loop_a");
    return 0;
}
