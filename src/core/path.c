/* path.c — path helpers (see path.h). */
#include "core/path.h"
#include "core/core.h"

#include <string.h>
#include <sys/stat.h>

char *lrq_path_join(const char *dir, const char *name) {
    size_t a = strlen(dir), b = strlen(name), n;
    /* a + b + 2 cannot overflow for two C strings in memory, but say so once */
    if (lrq_add_size(a, b, &n) || lrq_add_size(n, 2, &n)) { lrq_err_set("path too long"); return NULL; }
    char *p = lrq_malloc(n);
    if (!p) return NULL;
    memcpy(p, dir, a);
    size_t k = a;
    if (a == 0 || dir[a - 1] != '/') p[k++] = '/';
    memcpy(p + k, name, b + 1);
    return p;
}

int lrq_path_is_file(const char *path) {
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
}
