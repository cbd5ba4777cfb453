/* atomic.c — see atomic.h. */
#define _POSIX_C_SOURCE 200809L
#include "atomic.h"
#include "core.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Registry: fixed buffers, so the signal handler never touches the heap.
 * A slot's path is complete before `used` is set, and `used` is cleared
 * before the slot is reused: the handler sees either nothing or a whole
 * path. The few outputs one process has open at a time fit easily. */
#define REG_SLOTS 8
#define REG_PATH 4096

static char reg_path[REG_SLOTS][REG_PATH];
static volatile sig_atomic_t reg_used[REG_SLOTS];
static pthread_mutex_t reg_mu = PTHREAD_MUTEX_INITIALIZER;

static int reg_add(const char *path) {
    if (strlen(path) >= REG_PATH) return -1;
    pthread_mutex_lock(&reg_mu);
    int slot = -1;
    for (int i = 0; i < REG_SLOTS && slot < 0; i++)
        if (!reg_used[i]) slot = i;
    if (slot >= 0) {
        memcpy(reg_path[slot], path, strlen(path) + 1);
        atomic_signal_fence(memory_order_seq_cst); /* the path is stored before it is marked used */
        reg_used[slot] = 1;
    }
    pthread_mutex_unlock(&reg_mu);
    return slot;
}

static void reg_remove(int slot) {
    if (slot < 0) return;
    pthread_mutex_lock(&reg_mu);
    reg_used[slot] = 0;
    pthread_mutex_unlock(&reg_mu);
}

void lrq_atomic_unlink_all(void) {
    for (int i = 0; i < REG_SLOTS; i++)
        if (reg_used[i]) unlink(reg_path[i]);
}

/* The folder holding `path` ("." when it has no slash), malloc'ed. */
static char *dir_of(const char *path) {
    const char *s = strrchr(path, '/');
    if (!s) return lrq_strdup(".");
    if (s == path) return lrq_strdup("/");
    size_t n = (size_t)(s - path);
    char *d = lrq_malloc(n + 1);
    if (d) {
        memcpy(d, path, n);
        d[n] = 0;
    }
    return d;
}

int lrq_atomic_open(lrq_atomic_file *af, const char *path) {
    static atomic_uint counter;
    memset(af, 0, sizeof *af);
    af->fd = -1;
    af->slot = -1;
    size_t tl = strlen(path) + 64;
    af->target = lrq_strdup(path);
    af->tmp = lrq_malloc(tl);
    if (!af->target || !af->tmp) {
        lrq_err_prefix("%s", path);
        goto fail;
    }
    int e = 0;
    for (int attempt = 0; attempt < 100 && af->fd < 0; attempt++) {
        snprintf(af->tmp, tl, "%s.lrqtmp.%ld.%u", path, (long)getpid(), atomic_fetch_add(&counter, 1u));
        /* Register before creating, so that no instant exists where the file
         * is there but a signal handler would not know it. */
        af->slot = reg_add(af->tmp);
        if (af->slot < 0) {
            lrq_err_set("%s: cannot create temporary file: path too long or too many open outputs", path);
            goto fail;
        }
        af->fd = open(af->tmp, O_WRONLY | O_CREAT | O_EXCL, 0666);
        e = errno;
        if (af->fd < 0) {
            reg_remove(af->slot);
            af->slot = -1;
            if (e != EEXIST) break;
        }
    }
    if (af->fd < 0) {
        lrq_err_set("%s: cannot create temporary file %s: %s", path, af->tmp, strerror(e));
        goto fail;
    }
    return 0;
fail:
    free(af->target);
    free(af->tmp);
    memset(af, 0, sizeof *af);
    af->fd = -1;
    af->slot = -1;
    return -1;
}

FILE *lrq_atomic_stream(lrq_atomic_file *af) {
    if (af->f) return af->f;
    if (af->fd < 0) {
        lrq_err_set("atomic output: no open file");
        return NULL;
    }
    af->f = fdopen(af->fd, "wb");
    if (!af->f) lrq_err_set("%s: cannot open a stream: %s", af->target, strerror(errno));
    return af->f;
}

static void release(lrq_atomic_file *af) {
    reg_remove(af->slot);
    free(af->target);
    free(af->tmp);
    memset(af, 0, sizeof *af);
    af->fd = -1;
    af->slot = -1;
}

void lrq_atomic_abort(lrq_atomic_file *af) {
    if (!af->tmp) return;
    if (af->f) fclose(af->f);
    else if (af->fd >= 0) close(af->fd);
    unlink(af->tmp); /* before leaving the registry: a signal in between still finds it */
    release(af);
}

int lrq_atomic_commit(lrq_atomic_file *af) {
    if (!af->tmp) return lrq_err_set("atomic output: commit without an open file");
    int e = 0;
    if (af->f && fflush(af->f) != 0) e = errno ? errno : EIO;
    if (!e && fsync(af->fd) != 0) e = errno;
    int cr = af->f ? fclose(af->f) : close(af->fd);
    if (!e && cr != 0) e = errno ? errno : EIO;
    af->f = NULL;
    af->fd = -1;
    if (e) {
        char *t = af->target;
        af->target = NULL;
        lrq_atomic_abort(af);
        lrq_err_set("%s: write failed: %s", t, strerror(e));
        free(t);
        return -1;
    }
    if (rename(af->tmp, af->target) != 0) {
        e = errno;
        char *t = af->target;
        af->target = NULL;
        lrq_atomic_abort(af);
        lrq_err_set("%s: cannot rename the temporary file into place: %s", t, strerror(e));
        free(t);
        return -1;
    }
    /* The rename is durable only once the folder's entry is on disk. A
     * folder that cannot be opened or synced (some network file systems)
     * does not make the write fail: the file is complete either way. */
    char *d = dir_of(af->target);
    if (d) {
        int dfd = open(d, O_RDONLY);
        if (dfd >= 0) {
            (void)fsync(dfd);
            close(dfd);
        }
        free(d);
    }
    release(af);
    return 0;
}

int lrq_scratch_fd(const char *near) {
    static atomic_uint counter;
    size_t tl = strlen(near) + 64;
    char *tmp = lrq_malloc(tl);
    if (!tmp) return lrq_err_prefix("%s", near);
    int fd = -1, e = 0;
    for (int attempt = 0; attempt < 100 && fd < 0; attempt++) {
        snprintf(tmp, tl, "%s.lrqscratch.%ld.%u", near, (long)getpid(), atomic_fetch_add(&counter, 1u));
        int slot = reg_add(tmp);
        fd = open(tmp, O_RDWR | O_CREAT | O_EXCL, 0600);
        e = errno;
        if (fd >= 0) unlink(tmp); /* the descriptor keeps the data; the name goes at once */
        reg_remove(slot);
        if (fd < 0 && e != EEXIST) break;
    }
    free(tmp);
    if (fd < 0) return lrq_err_set("%s: cannot create scratch file: %s", near, strerror(e));
    return fd;
}
