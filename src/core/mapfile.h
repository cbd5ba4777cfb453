/* mapfile.h — read-only memory mapping of a whole file. Weights are used
 * straight from the mapping (zero copy). */
#ifndef LRQ_MAPFILE_H
#define LRQ_MAPFILE_H

#include <stddef.h>
#include <stdint.h>

typedef struct lrq_mapfile {
    char *path;          /* owned copy of the path, for error messages */
    const uint8_t *data; /* [size] bytes, read-only; NULL when size == 0 */
    size_t size;
} lrq_mapfile;

/* Map `path` read-only. On failure returns -1 with "PATH: reason" recorded.
 * An empty file maps to data == NULL, size == 0 (not an error here; the
 * format readers reject it with their own message). */
int lrq_mapfile_open(lrq_mapfile *mf, const char *path);

/* Map the whole of an open descriptor read-only (e.g. a scratch file from
 * lrq_scratch_fd); `name` stands for the path in errors. The descriptor
 * stays the caller's (it may be closed right after). */
int lrq_mapfile_open_fd(lrq_mapfile *mf, int fd, const char *name);

/* Unmap and free; safe on a zeroed struct. */
void lrq_mapfile_close(lrq_mapfile *mf);

/* Read a whole (small) file into a malloc'ed, NUL-terminated buffer.
 * Returns NULL with an error recorded on failure; *size gets the length. */
char *lrq_read_file(const char *path, size_t *size);

#endif
