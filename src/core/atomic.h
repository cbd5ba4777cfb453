/* atomic.h — all-or-nothing output files, and unnamed scratch files.
 *
 * Every file lrq writes goes through here: the data is written to a
 * temporary file in the target's folder (same file system, so the final
 * rename is atomic), and only a complete, fsync'ed file is renamed over the
 * target. A failed or interrupted run therefore leaves an existing target
 * untouched and never leaves a partial one.
 *
 * Temporary files still open are listed in a small process-wide registry of
 * fixed buffers, so that a SIGINT/SIGTERM handler can remove them with
 * lrq_atomic_unlink_all(), which only calls unlink() on stored paths and is
 * async-signal-safe. (A SIGKILL cannot be caught: then a temporary
 * "TARGET.lrqtmp.PID.N" may remain, but the target is still intact.)
 */
#ifndef LRQ_ATOMIC_H
#define LRQ_ATOMIC_H

#include <stdio.h>

typedef struct lrq_atomic_file {
    char *target;   /* owned copy of the final path */
    char *tmp;      /* owned path of the temporary file */
    int fd;         /* open descriptor of tmp, -1 when closed */
    FILE *f;        /* stdio stream over fd, created by lrq_atomic_stream */
    int slot;       /* registry slot, -1 if none */
} lrq_atomic_file;

/* Create a temporary file next to `path` (exclusive, mode 0666 & ~umask)
 * and register it for signal cleanup. Nothing is done to `path` itself.
 * Returns 0, or -1 with "PATH: cannot create temporary file T: reason"
 * (af is then closed: abort/commit are no-ops on it). */
int lrq_atomic_open(lrq_atomic_file *af, const char *path);

/* A buffered stdio stream over the temporary file (created on first call),
 * for writers that prefer fwrite; NULL + error when out of memory. Mixing
 * it with direct writes to af->fd is not allowed. */
FILE *lrq_atomic_stream(lrq_atomic_file *af);

/* Flush, fsync and close the temporary file, rename it over the target and
 * fsync the folder, so the new file survives a crash once this returns.
 * Returns 0, or -1 with "TARGET: reason" after removing the temporary file
 * (the target is then untouched). Always releases af. */
int lrq_atomic_commit(lrq_atomic_file *af);

/* Close and remove the temporary file; the target is untouched. Safe on a
 * zeroed, closed or already committed af. Keeps the current error message. */
void lrq_atomic_abort(lrq_atomic_file *af);

/* Remove every registered temporary file. Async-signal-safe (unlink() on
 * pre-stored paths only), for a SIGINT/SIGTERM handler; the registry is
 * left as is, so call it only when the process is about to end. */
void lrq_atomic_unlink_all(void);

/* An unnamed scratch file in the folder of `near` (created and unlinked at
 * once, so nothing is left behind even after SIGKILL); returns an open
 * read-write descriptor, or -1 with "NEAR: cannot create scratch file: reason". */
int lrq_scratch_fd(const char *near);

#endif
