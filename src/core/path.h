/* path.h — small file-system path helpers shared by the loaders. */
#ifndef LRQ_CORE_PATH_H
#define LRQ_CORE_PATH_H

/* dir + "/" + name (no doubled '/' when dir already ends with one), newly
 * allocated; the caller frees it. NULL on out-of-memory (error set). */
char *lrq_path_join(const char *dir, const char *name);

/* 1 if path names an existing regular file (after following links), else 0. */
int lrq_path_is_file(const char *path);

#endif
