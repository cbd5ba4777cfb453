/* mapfile.c — mmap wrapper (POSIX: Linux and macOS). */
#define _POSIX_C_SOURCE 200809L
#include "mapfile.h"
#include "core.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static int map_fd(lrq_mapfile *mf, int fd, const char *path) {
    struct stat st;
    if (fstat(fd, &st) != 0) return lrq_err_set("%s: cannot stat: %s", path, strerror(errno));
    if (!S_ISREG(st.st_mode)) return lrq_err_set("%s: not a regular file", path);
    mf->path = lrq_strdup(path);
    if (!mf->path) return -1;
    mf->size = (size_t)st.st_size;
    if (mf->size > 0) {
        void *p = mmap(NULL, mf->size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (p == MAP_FAILED) {
            int e = errno;
            free(mf->path);
            memset(mf, 0, sizeof *mf);
            return lrq_err_set("%s: mmap failed: %s", path, strerror(e));
        }
        mf->data = p;
    }
    return 0;
}

int lrq_mapfile_open(lrq_mapfile *mf, const char *path) {
    memset(mf, 0, sizeof *mf);
    int fd = open(path, O_RDONLY);
    if (fd < 0) return lrq_err_set("%s: cannot open: %s", path, strerror(errno));
    int r = map_fd(mf, fd, path);
    close(fd);
    return r;
}

int lrq_mapfile_open_fd(lrq_mapfile *mf, int fd, const char *name) {
    memset(mf, 0, sizeof *mf);
    return map_fd(mf, fd, name);
}

void lrq_mapfile_close(lrq_mapfile *mf) {
    if (mf->data) munmap((void *)mf->data, mf->size);
    free(mf->path);
    memset(mf, 0, sizeof *mf);
}

char *lrq_read_file(const char *path, size_t *size) {
    FILE *f = fopen(path, "rb");
    if (!f) { lrq_err_set("%s: cannot open: %s", path, strerror(errno)); return NULL; }
    size_t cap = 1 << 16, n = 0;
    char *buf = lrq_malloc(cap + 1);
    if (!buf) { fclose(f); return NULL; }
    for (;;) {
        size_t r = fread(buf + n, 1, cap - n, f);
        n += r;
        if (r == 0) break;
        if (n == cap) {
            char *nb = lrq_realloc(buf, cap * 2 + 1);
            if (!nb) { free(buf); fclose(f); return NULL; }
            buf = nb;
            cap *= 2;
        }
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) { free(buf); lrq_err_set("%s: read error", path); return NULL; }
    buf[n] = 0;
    if (size) *size = n;
    return buf;
}
