/* safetensors.c — .safetensors reader (see safetensors.h). */
#define _POSIX_C_SOURCE 200809L
#include "io/safetensors.h"
#include "core/core.h"
#include "core/path.h"
#include "core/mapfile.h"
#include "io/json.h"
#include "fmt/types.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

typedef struct st_file {
    char *path;              /* owned */
    lrq_mapfile mf;          /* zeroed for in-memory images */
} st_file;

struct lrq_safetensors {
    int n_files;
    st_file *files;
    int64_t n_tensors, cap_tensors;
    lrq_st_tensor *tensors;
    int64_t *by_name;        /* tensor indices sorted by name */
};

size_t lrq_safetensors_dtype(const char *dtype, int *type) {
    if (strcmp(dtype, "F32") == 0) { *type = LRQ_TYPE_F32; return 4; }
    if (strcmp(dtype, "F16") == 0) { *type = LRQ_TYPE_F16; return 2; }
    if (strcmp(dtype, "BF16") == 0) { *type = LRQ_TYPE_BF16; return 2; }
    return 0;
}

void lrq_safetensors_close(lrq_safetensors *st) {
    if (!st) return;
    for (int64_t i = 0; i < st->n_tensors; i++) free((char *)st->tensors[i].name);
    free(st->tensors);
    free(st->by_name);
    for (int i = 0; i < st->n_files; i++) {
        lrq_mapfile_close(&st->files[i].mf);
        free(st->files[i].path);
    }
    free(st->files);
    free(st);
}

static int add_file(lrq_safetensors *st, const char *path) {
    st_file *nf = lrq_realloc(st->files, sizeof *nf * (size_t)(st->n_files + 1));
    if (!nf) return -1;
    st->files = nf;
    memset(&nf[st->n_files], 0, sizeof *nf);
    nf[st->n_files].path = lrq_strdup(path);
    if (!nf[st->n_files].path) return -1;
    st->n_files++;
    return 0;
}

static lrq_st_tensor *new_tensor(lrq_safetensors *st) {
    if (st->n_tensors == st->cap_tensors) {
        int64_t cap = st->cap_tensors ? st->cap_tensors * 2 : 64;
        size_t bytes;
        if (lrq_mul_size((size_t)cap, sizeof(lrq_st_tensor), &bytes)) {
            lrq_err_set("out of memory (tensor table)");
            return NULL;
        }
        lrq_st_tensor *nt = lrq_realloc(st->tensors, bytes);
        if (!nt) return NULL;
        st->tensors = nt;
        st->cap_tensors = cap;
    }
    lrq_st_tensor *t = &st->tensors[st->n_tensors++];
    memset(t, 0, sizeof *t);
    return t;
}

static uint64_t read_u64le(const uint8_t *p) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = (v << 8) | p[i];
    return v;
}

/* A JSON value as a non-negative int64; 0 on success. */
static int json_nonneg(const lrq_json *j, uint64_t *out) {
    int64_t v;
    if (!lrq_json_int(j, &v) || v < 0) return -1;
    *out = (uint64_t)v;
    return 0;
}

static int cmp_u64(uint64_t a, uint64_t b) { return a < b ? -1 : a > b; }

/* A tensor's data range in its file; sorted by (begin, end) to find overlaps. */
typedef struct range { uint64_t begin, end; int64_t idx; } range;

static int cmp_range(const void *a, const void *b) {
    const range *x = a, *y = b;
    int c = cmp_u64(x->begin, y->begin);
    return c ? c : cmp_u64(x->end, y->end);
}

/* Parse and validate one safetensors image and append its tensors. */
static int parse_image(lrq_safetensors *st, int file, const uint8_t *data, size_t size) {
    const char *path = st->files[file].path;
    if (size < 8) return lrq_err_set("%s: file too small for a safetensors header (%zu bytes)", path, size);
    uint64_t hlen = read_u64le(data);
    if (hlen > size - 8)
        return lrq_err_set("%s: header length %" PRIu64 " past end of file (size %zu)", path, hlen, size);
    if (hlen > LRQ_ST_MAX_HEADER)
        return lrq_err_set("%s: header length %" PRIu64 " exceeds the limit of %u bytes", path, hlen,
                           LRQ_ST_MAX_HEADER);
    if (hlen < 2) return lrq_err_set("%s: header length %" PRIu64 " too small for a JSON object", path, hlen);
    if (data[8] != '{') return lrq_err_set("%s: header does not start with '{' (not a safetensors file?)", path);
    const uint8_t *area = data + 8 + hlen;
    uint64_t area_size = (uint64_t)(size - 8 - (size_t)hlen);

    size_t nlen = strlen(path) + 16;
    char *jname = lrq_malloc(nlen);
    if (!jname) return lrq_err_prefix("%s", path);
    snprintf(jname, nlen, "%s: header", path);
    lrq_json_doc *doc = NULL;
    int rc = lrq_json_parse(&doc, (const char *)data + 8, (size_t)hlen, jname);
    free(jname);
    if (rc) return -1;

    const lrq_json *root = lrq_json_root(doc);
    range *ranges = NULL;
    int64_t first = st->n_tensors;
    if (lrq_json_type(root) != LRQ_JSON_OBJECT) {
        rc = lrq_err_set("%s: header is not a JSON object", path);
        goto done;
    }
    size_t n = lrq_json_len(root);
    for (size_t i = 0; i < n; i++) {
        size_t klen;
        const char *key = lrq_json_key_at(root, i, &klen);
        if (strcmp(key, "__metadata__") == 0 && klen == 12) continue;
        if (klen == 0 || strlen(key) != klen) {
            rc = lrq_err_set("%s: tensor %zu: empty name or name with a NUL byte", path, i);
            goto done;
        }
        const lrq_json *info = lrq_json_at(root, i);
        if (lrq_json_type(info) != LRQ_JSON_OBJECT) {
            rc = lrq_err_set("%s: tensor '%s': entry is not an object", path, key);
            goto done;
        }
        const char *dtype = lrq_json_str(lrq_json_get(info, "dtype"), NULL);
        if (!dtype) {
            rc = lrq_err_set("%s: tensor '%s': missing or non-string \"dtype\"", path, key);
            goto done;
        }
        int type = 0;
        size_t esize = lrq_safetensors_dtype(dtype, &type);
        if (!esize) {
            rc = lrq_err_set("%s: unsupported dtype %.32s in tensor '%s' (supported: F32, F16, BF16)", path,
                             dtype, key);
            goto done;
        }
        const lrq_json *shape = lrq_json_get(info, "shape");
        if (lrq_json_type(shape) != LRQ_JSON_ARRAY) {
            rc = lrq_err_set("%s: tensor '%s': missing or non-array \"shape\"", path, key);
            goto done;
        }
        size_t nd = lrq_json_len(shape);
        if (nd > LRQ_ST_MAX_DIMS) {
            rc = lrq_err_set("%s: tensor '%s': %zu dimensions (at most %d supported)", path, key, nd,
                             LRQ_ST_MAX_DIMS);
            goto done;
        }
        int64_t dims[LRQ_ST_MAX_DIMS];
        uint64_t nelem = 1;
        int overflow = 0;
        for (size_t d = 0; d < nd; d++) {
            uint64_t v;
            if (json_nonneg(lrq_json_at(shape, d), &v)) {
                rc = lrq_err_set("%s: tensor '%s': shape[%zu] is not a non-negative integer", path, key, d);
                goto done;
            }
            dims[d] = (int64_t)v;
            if (lrq_mul_u64(nelem, v, &nelem)) overflow = 1;
        }
        uint64_t want;
        if (overflow || lrq_mul_u64(nelem, esize, &want)) {
            /* only an error if no dimension is 0 (then the product is 0) */
            int zero = 0;
            for (size_t d = 0; d < nd; d++) zero |= dims[d] == 0;
            if (!zero) {
                rc = lrq_err_set("%s: tensor '%s': shape too large (element count overflows)", path, key);
                goto done;
            }
            want = 0;
        }
        const lrq_json *offs = lrq_json_get(info, "data_offsets");
        uint64_t b, e;
        if (lrq_json_type(offs) != LRQ_JSON_ARRAY || lrq_json_len(offs) != 2 ||
            json_nonneg(lrq_json_at(offs, 0), &b) || json_nonneg(lrq_json_at(offs, 1), &e)) {
            rc = lrq_err_set("%s: tensor '%s': \"data_offsets\" must be [begin, end] with non-negative integers",
                             path, key);
            goto done;
        }
        if (e < b) {
            rc = lrq_err_set("%s: tensor '%s': data_offsets [%" PRIu64 ", %" PRIu64 ") reversed", path, key, b, e);
            goto done;
        }
        if (e > area_size) {
            rc = lrq_err_set("%s: tensor '%s': data_offsets [%" PRIu64 ", %" PRIu64 ") past end of data (%" PRIu64
                             " bytes after the header)", path, key, b, e, area_size);
            goto done;
        }
        if (e - b != want) {
            rc = lrq_err_set("%s: tensor '%s': shape and dtype %s need %" PRIu64 " bytes but data_offsets span %" PRIu64,
                             path, key, dtype, want, e - b);
            goto done;
        }
        lrq_st_tensor *t = new_tensor(st);
        if (!t) { rc = lrq_err_prefix("%s", path); goto done; }
        char *nm = lrq_strdup(key);
        if (!nm) { st->n_tensors--; rc = lrq_err_prefix("%s", path); goto done; }
        t->name = nm;
        t->type = type;
        t->n_dims = (int)nd;
        for (int d = 0; d < LRQ_ST_MAX_DIMS; d++) t->shape[d] = d < (int)nd ? dims[d] : 1;
        t->offset = b;
        t->nbytes = (size_t)(e - b);
        t->data = area + b;
        t->file = file;
    }

    /* overlapping data ranges (empty tensors overlap nothing) */
    int64_t cnt = st->n_tensors - first;
    if (cnt > 1) {
        ranges = lrq_calloc((size_t)cnt, sizeof *ranges);
        if (!ranges) { rc = lrq_err_prefix("%s", path); goto done; }
        int64_t m = 0;
        for (int64_t i = first; i < st->n_tensors; i++) {
            if (st->tensors[i].nbytes == 0) continue;
            ranges[m].begin = st->tensors[i].offset;
            ranges[m].end = st->tensors[i].offset + st->tensors[i].nbytes;
            ranges[m].idx = i;
            m++;
        }
        qsort(ranges, (size_t)m, sizeof *ranges, cmp_range);
        for (int64_t i = 1; i < m; i++) {
            if (ranges[i].begin < ranges[i - 1].end) {
                rc = lrq_err_set("%s: tensors '%s' [%" PRIu64 ", %" PRIu64 ") and '%s' [%" PRIu64 ", %" PRIu64
                                 ") overlap", path, st->tensors[ranges[i - 1].idx].name, ranges[i - 1].begin,
                                 ranges[i - 1].end, st->tensors[ranges[i].idx].name, ranges[i].begin, ranges[i].end);
                goto done;
            }
        }
    }
    rc = 0;
done:
    free(ranges);
    lrq_json_free(doc);
    return rc;
}

/* Build the name index; duplicate names (within or across files) are errors. */
static int build_name_index(lrq_safetensors *st) {
    if (st->n_tensors == 0) return 0;
    st->by_name = lrq_calloc((size_t)st->n_tensors, sizeof *st->by_name);
    if (!st->by_name) return -1;
    for (int64_t i = 0; i < st->n_tensors; i++) st->by_name[i] = i;
    /* Bottom-up merge sort by name: C11 qsort has no context argument and a
     * global context would make opening files not thread-safe. Stable, so
     * the first of two duplicates comes first. */
    int64_t n = st->n_tensors;
    int64_t *tmp = lrq_calloc((size_t)n, sizeof *tmp);
    if (!tmp) return -1;
    int64_t *a = st->by_name, *bb = tmp;
    for (int64_t width = 1; width < n; width *= 2) {
        for (int64_t lo = 0; lo < n; lo += 2 * width) {
            int64_t mid = lo + width < n ? lo + width : n;
            int64_t hi = lo + 2 * width < n ? lo + 2 * width : n;
            int64_t i = lo, j = mid, k = lo;
            while (i < mid && j < hi) {
                if (strcmp(st->tensors[a[j]].name, st->tensors[a[i]].name) < 0) bb[k++] = a[j++];
                else bb[k++] = a[i++];
            }
            while (i < mid) bb[k++] = a[i++];
            while (j < hi) bb[k++] = a[j++];
        }
        int64_t *sw = a; a = bb; bb = sw;
    }
    if (a != st->by_name) memcpy(st->by_name, a, sizeof *a * (size_t)n);
    free(tmp);
    for (int64_t i = 1; i < n; i++) {
        const lrq_st_tensor *x = &st->tensors[st->by_name[i - 1]], *y = &st->tensors[st->by_name[i]];
        if (strcmp(x->name, y->name) == 0) {
            if (x->file == y->file)
                return lrq_err_set("%s: duplicate tensor '%s'", st->files[x->file].path, x->name);
            return lrq_err_set("%s: duplicate tensor '%s' (also in %s)", st->files[y->file].path, x->name,
                               st->files[x->file].path);
        }
    }
    return 0;
}

int lrq_safetensors_open_memory(lrq_safetensors **out, const void *data, size_t size, const char *name) {
    LRQ_ASSERT(out != NULL);
    *out = NULL;
    if (!name) name = "safetensors";
    lrq_safetensors *st = lrq_calloc(1, sizeof *st);
    if (!st) return -1;
    if (add_file(st, name) || parse_image(st, 0, data, size) || build_name_index(st)) {
        lrq_safetensors_close(st);
        return -1;
    }
    *out = st;
    return 0;
}

static int open_mapped(lrq_safetensors *st, const char *path) {
    if (add_file(st, path)) return -1;
    int f = st->n_files - 1;
    if (lrq_mapfile_open(&st->files[f].mf, path)) return -1;
    return parse_image(st, f, st->files[f].mf.data, st->files[f].mf.size);
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sharded checkpoint with model.safetensors.index.json. */
static int open_indexed(lrq_safetensors *st, const char *dir, const char *index_path) {
    size_t len;
    char *text = lrq_read_file(index_path, &len);
    if (!text) return -1;
    lrq_json_doc *doc = NULL;
    int rc = lrq_json_parse(&doc, text, len, index_path);
    free(text);
    if (rc) return -1;
    const lrq_json *wm = lrq_json_get(lrq_json_root(doc), "weight_map");
    size_t n = lrq_json_len(wm);
    int *file_of = NULL;
    rc = -1;
    if (lrq_json_type(wm) != LRQ_JSON_OBJECT || n == 0) {
        lrq_err_set("%s: missing or empty \"weight_map\" object", index_path);
        goto done;
    }
    file_of = lrq_calloc(n, sizeof *file_of);
    if (!file_of) goto done;
    for (size_t i = 0; i < n; i++) {
        size_t fl;
        const char *fname = lrq_json_str(lrq_json_at(wm, i), &fl);
        const char *tname = lrq_json_key_at(wm, i, NULL);
        if (!fname) {
            lrq_err_set("%s: weight_map['%s'] is not a string", index_path, tname);
            goto done;
        }
        /* shard names are plain file names inside `dir` */
        if (fl == 0 || strlen(fname) != fl || strchr(fname, '/') || strchr(fname, '\\') ||
            strcmp(fname, ".") == 0 || strcmp(fname, "..") == 0) {
            lrq_err_set("%s: weight_map['%s']: invalid shard file name '%s'", index_path, tname, fname);
            goto done;
        }
        int f = -1;
        for (int k = 0; k < st->n_files; k++) {
            const char *p = st->files[k].path;
            size_t pl = strlen(p);
            if (pl > fl && p[pl - fl - 1] == '/' && strcmp(p + pl - fl, fname) == 0) { f = k; break; }
        }
        if (f < 0) {
            char *full = lrq_path_join(dir, fname);
            if (!full) goto done;
            int r = open_mapped(st, full);
            free(full);
            if (r) goto done;
            f = st->n_files - 1;
        }
        file_of[i] = f;
    }
    if (build_name_index(st)) goto done;
    for (size_t i = 0; i < n; i++) {
        const char *tname = lrq_json_key_at(wm, i, NULL);
        const lrq_st_tensor *t = lrq_safetensors_find(st, tname);
        if (!t || t->file != file_of[i]) {
            lrq_err_set("%s: tensor '%s' is mapped to %s but not found there", index_path, tname,
                        st->files[file_of[i]].path);
            goto done;
        }
    }
    rc = 0;
done:
    free(file_of);
    lrq_json_free(doc);
    return rc;
}

/* Every *.safetensors file of `dir`, in name order. */
static int open_all_in_dir(lrq_safetensors *st, const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return lrq_err_set("%s: cannot open directory: %s", dir, strerror(errno));
    char **names = NULL;
    size_t n = 0, cap = 0;
    int rc = -1;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        size_t l = strlen(de->d_name);
        if (l <= 12 || strcmp(de->d_name + l - 12, ".safetensors") != 0 || de->d_name[0] == '.') continue;
        char *full = lrq_path_join(dir, de->d_name);
        if (!full) goto done;
        if (!lrq_path_is_file(full)) { free(full); continue; }
        if (n == cap) {
            size_t nc = cap ? cap * 2 : 16;
            char **nn = lrq_realloc(names, nc * sizeof *nn);
            if (!nn) { free(full); goto done; }
            names = nn;
            cap = nc;
        }
        names[n++] = full;
    }
    if (n == 0) {
        lrq_err_set("%s: no *.safetensors files in directory", dir);
        goto done;
    }
    qsort(names, n, sizeof *names, cmp_str);
    for (size_t i = 0; i < n; i++)
        if (open_mapped(st, names[i])) goto done;
    rc = 0;
done:
    closedir(d);
    for (size_t i = 0; i < n; i++) free(names[i]);
    free(names);
    return rc;
}

int lrq_safetensors_open(lrq_safetensors **out, const char *path) {
    LRQ_ASSERT(out != NULL);
    *out = NULL;
    struct stat sb;
    if (stat(path, &sb) != 0) return lrq_err_set("%s: cannot open: %s", path, strerror(errno));
    lrq_safetensors *st = lrq_calloc(1, sizeof *st);
    if (!st) return -1;
    int rc;
    if (S_ISDIR(sb.st_mode)) {
        char *index = lrq_path_join(path, "model.safetensors.index.json");
        if (!index) { lrq_safetensors_close(st); return -1; }
        if (lrq_path_is_file(index)) {
            rc = open_indexed(st, path, index); /* builds the name index */
        } else {
            rc = open_all_in_dir(st, path);
            if (!rc) rc = build_name_index(st);
        }
        free(index);
    } else {
        rc = open_mapped(st, path);
        if (!rc) rc = build_name_index(st);
    }
    if (rc) {
        lrq_safetensors_close(st);
        return -1;
    }
    *out = st;
    return 0;
}

int64_t lrq_safetensors_n_tensors(const lrq_safetensors *st) { return st ? st->n_tensors : 0; }

const lrq_st_tensor *lrq_safetensors_tensor_at(const lrq_safetensors *st, int64_t i) {
    if (!st || i < 0 || i >= st->n_tensors) return NULL;
    return &st->tensors[i];
}

const lrq_st_tensor *lrq_safetensors_find(const lrq_safetensors *st, const char *name) {
    if (!st || !st->by_name) return NULL;
    int64_t lo = 0, hi = st->n_tensors;
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        int c = strcmp(st->tensors[st->by_name[mid]].name, name);
        if (c == 0) return &st->tensors[st->by_name[mid]];
        if (c < 0) lo = mid + 1;
        else hi = mid;
    }
    return NULL;
}

int lrq_safetensors_n_files(const lrq_safetensors *st) { return st ? st->n_files : 0; }

const char *lrq_safetensors_file_path(const lrq_safetensors *st, int i) {
    if (!st || i < 0 || i >= st->n_files) return NULL;
    return st->files[i].path;
}
