/* gguf.h — GGUF v2/v3 reader (mmap'ed, zero-copy) and writer.
 *
 * The reader validates the whole file at open time against its size with
 * overflow-safe arithmetic: string lengths, array counts, nesting, tensor
 * dims, types, offsets and data extents. After lrq_gguf_open succeeds every
 * pointer handed out is inside the mapping. Errors name the file and field:
 * "x.gguf: tensor 3 'blk.0.attn_q.weight': data (offset ...) extends past end of file (size N)".
 *
 * What the reader accepts (checked at open; anything else is an error):
 *  - magic "GGUF", version 2 or 3 (v1 and big-endian files are rejected);
 *  - keys non-empty, without NUL bytes, unique; value types 0..12; bools 0/1;
 *    arrays of any element type, including strings and nested arrays up to
 *    8 levels deep; every string and array inside the file;
 *  - general.alignment, if present, a uint32 nonzero power of two (default 32);
 *  - tensor names non-empty, without NUL bytes, unique; n_dims 1..4; every
 *    ne[i] >= 1 (llama.cpp allows 0; no real model has an empty tensor, so
 *    lrq calls it corrupt) with a product that fits in
 *    int64; a type id lrq knows (lrq_type_get; types lrq cannot compute are
 *    fine to read); ne[0] a multiple of the type's block size; offset a
 *    multiple of the alignment; data inside the file; no two tensors sharing
 *    bytes (any order is accepted, llama.cpp additionally requires them to be
 *    packed in order);
 *  - the data section starts at the first multiple of the alignment after the
 *    tensor infos; a file with 0 tensors has no data section and may end
 *    right after its metadata.
 */
#ifndef LRQ_GGUF_H
#define LRQ_GGUF_H

#include <stddef.h>
#include <stdint.h>

enum lrq_gguf_vtype {
    LRQ_GGUF_UINT8 = 0, LRQ_GGUF_INT8 = 1, LRQ_GGUF_UINT16 = 2, LRQ_GGUF_INT16 = 3,
    LRQ_GGUF_UINT32 = 4, LRQ_GGUF_INT32 = 5, LRQ_GGUF_FLOAT32 = 6, LRQ_GGUF_BOOL = 7,
    LRQ_GGUF_STRING = 8, LRQ_GGUF_ARRAY = 9, LRQ_GGUF_UINT64 = 10, LRQ_GGUF_INT64 = 11,
    LRQ_GGUF_FLOAT64 = 12, LRQ_GGUF_VTYPE_COUNT = 13
};

#define LRQ_GGUF_MAX_DIMS 4

/* A metadata value. Strings point into the mapping (NOT NUL-terminated). */
typedef struct lrq_gguf_value {
    int type;                 /* enum lrq_gguf_vtype */
    union {
        uint64_t u64;         /* UINT8/16/32/64, BOOL (0/1) */
        int64_t i64;          /* INT8/16/32/64 */
        double f64;           /* FLOAT32/64 */
        struct { const char *ptr; uint64_t len; } str;
        struct {
            int elem_type;    /* enum lrq_gguf_vtype of the elements */
            uint64_t n;       /* element count */
            const void *raw;  /* scalar elements: n * elem_size raw LE bytes in the file */
            struct lrq_gguf_value *items; /* STRING/ARRAY elements: [n] parsed values; else NULL */
        } arr;
    } v;
} lrq_gguf_value;

typedef struct lrq_gguf_kv {
    const char *key;          /* NUL-terminated copy */
    lrq_gguf_value val;
} lrq_gguf_kv;

typedef struct lrq_gguf_tensor {
    const char *name;         /* NUL-terminated copy */
    int type;                 /* enum lrq_type (ggml type id); may be a type lrq cannot compute */
    uint32_t n_dims;
    int64_t ne[LRQ_GGUF_MAX_DIMS]; /* ne[0] = row length (fastest), unused dims = 1 */
    uint64_t offset;          /* relative to the data section */
    size_t nbytes;
    const void *data;         /* inside the mapping */
} lrq_gguf_tensor;

typedef struct lrq_gguf lrq_gguf;

/* Open and fully validate a GGUF file (mmap'ed). Returns 0 and *out, or -1
 * with an error naming the file and field (*out is then NULL). */
int lrq_gguf_open(lrq_gguf **out, const char *path);
/* The same on a buffer already in memory (used by the fuzzer and for files
 * read by other means). `data` is NOT copied: it must stay valid and
 * unchanged until lrq_gguf_close. `name` stands for the path in errors and
 * in lrq_gguf_path. */
int lrq_gguf_open_memory(lrq_gguf **out, const void *data, size_t size, const char *name);
/* Free everything (NULL is fine). Pointers handed out die with the handle. */
void lrq_gguf_close(lrq_gguf *g);

const char *lrq_gguf_path(const lrq_gguf *g);
uint32_t lrq_gguf_version(const lrq_gguf *g);
uint32_t lrq_gguf_alignment(const lrq_gguf *g);
size_t lrq_gguf_file_size(const lrq_gguf *g);
/* File offset where the tensor data section starts (for a file with no
 * tensors: where the metadata ends). */
size_t lrq_gguf_data_offset(const lrq_gguf *g);

/* Keys in file order; kv_at asserts 0 <= i < n_kv. */
int64_t lrq_gguf_n_kv(const lrq_gguf *g);
const lrq_gguf_kv *lrq_gguf_kv_at(const lrq_gguf *g, int64_t i);
/* The value of `key`, or NULL when absent. */
const lrq_gguf_value *lrq_gguf_find(const lrq_gguf *g, const char *key);

/* Typed getters. Return 1 and *out when present with a compatible type,
 * 0 when absent (out untouched), -1 with an error ("FILE: key 'K': expected
 * an unsigned integer, found string") when present with a wrong type or a
 * value out of range. Integer getters accept any integer type whose value
 * fits (BOOL is not an integer); float getters accept FLOAT32/FLOAT64
 * (a FLOAT64 beyond float range is an error). get_bool accepts BOOL only.
 * get_str returns a pointer into the mapping and its length. */
int lrq_gguf_get_u32(const lrq_gguf *g, const char *key, uint32_t *out);
int lrq_gguf_get_i64(const lrq_gguf *g, const char *key, int64_t *out);
int lrq_gguf_get_f32(const lrq_gguf *g, const char *key, float *out);
int lrq_gguf_get_bool(const lrq_gguf *g, const char *key, int *out);
int lrq_gguf_get_str(const lrq_gguf *g, const char *key, const char **ptr, uint64_t *len);
/* An array value: its element type and count. Same return convention;
 * -1 if the key is not an array. Any of the out pointers may be NULL. */
int lrq_gguf_get_arr(const lrq_gguf *g, const char *key, int *elem_type, uint64_t *n,
                     const lrq_gguf_value **val);
/* Element i of a scalar array (elem type numeric or BOOL; asserts that and
 * i < n) as double / int64. arr_i64 saturates: uint64 above INT64_MAX gives
 * INT64_MAX, floats are truncated toward zero and clamped, NaN gives 0. */
double lrq_gguf_arr_f64(const lrq_gguf_value *arr, uint64_t i);
int64_t lrq_gguf_arr_i64(const lrq_gguf_value *arr, uint64_t i);

/* Tensors in file order; tensor_at asserts 0 <= i < n_tensors. */
int64_t lrq_gguf_n_tensors(const lrq_gguf *g);
const lrq_gguf_tensor *lrq_gguf_tensor_at(const lrq_gguf *g, int64_t i);
/* Tensor by name, or NULL. */
const lrq_gguf_tensor *lrq_gguf_find_tensor(const lrq_gguf *g, const char *name);

/* Name of a metadata value type ("uint32", "string", ...; "unknown" if invalid). */
const char *lrq_gguf_vtype_name(int t);

/* ---- writer ----
 * Builds a GGUF in memory (metadata and tensor infos; tensor data is
 * referenced, not copied) and writes it in one pass. Keys and tensors are
 * written in insertion order; general.alignment (default 32) is honoured.
 * The layout matches llama.cpp's writer: tensor infos, zero padding to the
 * alignment, then the tensors at consecutive aligned offsets, each followed
 * by zero padding (also after the metadata of a file without tensors).
 * Every setter validates its input as the reader would (value ranges for
 * the declared type, bools 0/1, array items of the declared element type,
 * nesting depth, general.alignment a uint32 power of two) and returns -1
 * with "gguf writer: key 'K': ..." on bad input, leaving the writer as it
 * was. Functions return 0 on success. */
typedef struct lrq_gguf_writer lrq_gguf_writer;

/* NULL (error recorded) only when out of memory. free accepts NULL. */
lrq_gguf_writer *lrq_gguf_writer_new(void);
void lrq_gguf_writer_free(lrq_gguf_writer *w);
/* Set a key (replacing an existing one in place) to a deep copy of `val`. */
int lrq_gguf_writer_set(lrq_gguf_writer *w, const char *key, const lrq_gguf_value *val);
int lrq_gguf_writer_set_u32(lrq_gguf_writer *w, const char *key, uint32_t v);
int lrq_gguf_writer_set_i32(lrq_gguf_writer *w, const char *key, int32_t v);
int lrq_gguf_writer_set_f32(lrq_gguf_writer *w, const char *key, float v);
int lrq_gguf_writer_set_bool(lrq_gguf_writer *w, const char *key, int v);
int lrq_gguf_writer_set_str(lrq_gguf_writer *w, const char *key, const char *s);
/* Array of n scalars of elem_type, copied from raw LE bytes. */
int lrq_gguf_writer_set_arr(lrq_gguf_writer *w, const char *key, int elem_type, uint64_t n,
                            const void *raw);
/* Array of n NUL-terminated strings. */
int lrq_gguf_writer_set_arr_str(lrq_gguf_writer *w, const char *key, uint64_t n,
                                const char *const *strs);
/* Add a tensor; `data` (nbytes as implied by type and dims) must stay valid
 * until lrq_gguf_writer_write returns. Rejects: empty, duplicate or longer
 * than 63-byte names (llama.cpp's limit), unknown types, n_dims outside
 * 1..4, negative or zero dims, ne[0] not a multiple of the block size, size overflow,
 * NULL data for a non-empty tensor. ne has n_dims entries. */
int lrq_gguf_writer_add_tensor(lrq_gguf_writer *w, const char *name, int type, uint32_t n_dims,
                               const int64_t *ne, const void *data);
/* A tensor whose data is produced while the file is written, for writers
 * that must not hold the whole model (lrq quantize): at its turn, in tensor
 * order, lrq_gguf_writer_write calls fill(ud, index, sink), which must hand
 * exactly the tensor's size in bytes to lrq_gguf_sink_put (in any number of
 * pieces) and return 0; returning -1 (with lrq_err_set) aborts the write,
 * leaving no file behind. Same checks as add_tensor otherwise. */
typedef struct lrq_gguf_sink lrq_gguf_sink;
typedef int (*lrq_gguf_fill_fn)(void *ud, size_t index, lrq_gguf_sink *sink);
int lrq_gguf_writer_add_tensor_fill(lrq_gguf_writer *w, const char *name, int type, uint32_t n_dims,
                                    const int64_t *ne, lrq_gguf_fill_fn fill, void *ud);
/* Append n bytes of the tensor being filled: 0, or -1 with an error (more
 * bytes than the tensor holds; a write failure). */
int lrq_gguf_sink_put(lrq_gguf_sink *sink, const void *p, size_t n);
/* Copy every key of `src` in order (deep copies; an existing key of the
 * same name is replaced in place), then every tensor (data referenced from
 * src's mapping: keep src open until the write). On error the writer holds
 * whatever was copied before the failure. */
int lrq_gguf_writer_copy_all(lrq_gguf_writer *w, const lrq_gguf *src);
/* Write the file (version 3) to a temporary file next to `path`, then
 * rename it over `path` (so `path` may be the file src is mapped from).
 * Returns 0 or -1 with an error naming path; on error `path` is untouched
 * and no temporary file is left behind. The writer can be written again. */
int lrq_gguf_writer_write(lrq_gguf_writer *w, const char *path);

#endif
