/* safetensors.h — reader for Hugging Face .safetensors files (mmap'ed,
 * zero-copy), single files and sharded checkpoint directories.
 *
 * File layout: u64 little-endian header length N, N bytes of JSON
 * {"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, ...,
 *  "__metadata__": {...}}, then the data area; offsets are relative to the
 * data area (byte 8 + N of the file) and half-open.
 *
 * Everything is validated at open time against the file size with
 * overflow-safe arithmetic: header length, JSON syntax, dtype (F32, F16 and
 * BF16 are supported; any other dtype is an error), shape, offsets,
 * nbytes == prod(shape) * element size, duplicate names (also across
 * shards), overlapping data ranges. After a successful open every `data`
 * pointer and [data, data + nbytes) range is inside a live mapping.
 * Errors name the file and the tensor:
 * "model.safetensors: tensor 'lm_head.weight': data_offsets [0, 80) past end of data (64 bytes)".
 *
 * Note: `data` is only as aligned as the file makes it (the official writer
 * pads the header to 8 bytes; a foreign file may not). Check alignment
 * before reading elements in place.
 */
#ifndef LRQ_SAFETENSORS_H
#define LRQ_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

#define LRQ_ST_MAX_DIMS 8
/* Same bound as the reference implementation (safetensors' MAX_HEADER_SIZE). */
#define LRQ_ST_MAX_HEADER 100000000u

typedef struct lrq_st_tensor {
    const char *name;        /* NUL-terminated (owned by the reader) */
    int type;                /* enum lrq_type: LRQ_TYPE_F32, LRQ_TYPE_F16 or LRQ_TYPE_BF16 */
    int n_dims;              /* 0 (scalar) .. LRQ_ST_MAX_DIMS */
    int64_t shape[LRQ_ST_MAX_DIMS]; /* safetensors (row-major, PyTorch) order: shape[n_dims-1] is
                                       the contiguous dimension; unused entries are 1 */
    uint64_t offset;         /* begin of data_offsets (relative to the file's data area) */
    size_t nbytes;
    const void *data;        /* inside the mapping of file `file` */
    int file;                /* index of the shard it came from (see lrq_safetensors_file_path) */
} lrq_st_tensor;

typedef struct lrq_safetensors lrq_safetensors;

/* Open `path`: a .safetensors file, or a directory holding either
 * model.safetensors.index.json (its "weight_map" names the shard files; every
 * mapped tensor must be found in its shard) or one or more *.safetensors
 * files (all are read, in name order). Returns 0 and *out, or -1 with an
 * error naming the file. */
int lrq_safetensors_open(lrq_safetensors **out, const char *path);

/* Parse an in-memory safetensors image (no copy: `data` must stay valid and
 * unchanged until lrq_safetensors_close). `name` is used in error messages
 * and as the file path. For tests and fuzzing. */
int lrq_safetensors_open_memory(lrq_safetensors **out, const void *data, size_t size, const char *name);

/* Release everything (safe on NULL). Tensor data pointers become invalid. */
void lrq_safetensors_close(lrq_safetensors *st);

int64_t lrq_safetensors_n_tensors(const lrq_safetensors *st);
/* Tensors in file order (shard by shard, each in header order); NULL if out of range. */
const lrq_st_tensor *lrq_safetensors_tensor_at(const lrq_safetensors *st, int64_t i);
/* Tensor by name (O(log n)), or NULL. */
const lrq_st_tensor *lrq_safetensors_find(const lrq_safetensors *st, const char *name);
/* Number of files read and the path of file i (for messages). */
int lrq_safetensors_n_files(const lrq_safetensors *st);
const char *lrq_safetensors_file_path(const lrq_safetensors *st, int i);

/* Bytes per element of a safetensors dtype string we support ("F32" -> 4,
 * "F16"/"BF16" -> 2) and its lrq_type in *type; 0 if unsupported. */
size_t lrq_safetensors_dtype(const char *dtype, int *type);

#endif
