/* core.h — the few things every lrq source file needs: errors, always-on
 * asserts, overflow-safe size arithmetic, and half/bfloat conversions.
 *
 * Error convention (library-wide): a function that can fail on bad input
 * returns an int status (0 = ok, -1 = error) or NULL, after recording a
 * one-line message with lrq_err_set(). The message names the file and the
 * problem ("model.gguf: tensor 'blk.0.attn_q.weight': offset past end of file").
 * The caller reads it with lrq_last_error(). Messages are thread-local.
 * Programmer errors (broken invariants, not bad input) use LRQ_ASSERT, which
 * is active in every build type and aborts with file:line.
 */
#ifndef LRQ_CORE_H
#define LRQ_CORE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#if defined(__GNUC__) || defined(__clang__)
#define LRQ_PRINTF(a, b) __attribute__((format(printf, a, b)))
#define LRQ_UNLIKELY(x) __builtin_expect(!!(x), 0)
#else
#define LRQ_PRINTF(a, b)
#define LRQ_UNLIKELY(x) (x)
#endif

/* Record an error message (printf-style) for this thread; always returns -1 so
 * callers can write `return lrq_err_set(...)`. */
int lrq_err_set(const char *fmt, ...) LRQ_PRINTF(1, 2);

/* Prefix the current error message with "prefix: " (used to add a file name
 * or a tensor name on the way up). Always returns -1. */
int lrq_err_prefix(const char *fmt, ...) LRQ_PRINTF(1, 2);

/* The last message recorded on this thread ("" if none). */
const char *lrq_err_get(void);

/* Clear this thread's error message. */
void lrq_err_clear(void);

/* Called by LRQ_ASSERT; prints and aborts. */
void lrq_assert_fail(const char *expr, const char *file, int line);

#define LRQ_ASSERT(x) \
    do { if (LRQ_UNLIKELY(!(x))) lrq_assert_fail(#x, __FILE__, __LINE__); } while (0)

/* Overflow-safe arithmetic: return 0 and store the result, or return -1 on
 * overflow (the result is then unspecified). */
static inline int lrq_add_size(size_t a, size_t b, size_t *out) {
    if (a > SIZE_MAX - b) return -1;
    *out = a + b;
    return 0;
}
static inline int lrq_mul_size(size_t a, size_t b, size_t *out) {
    if (a != 0 && b > SIZE_MAX / a) return -1;
    *out = a * b;
    return 0;
}
static inline int lrq_add_u64(uint64_t a, uint64_t b, uint64_t *out) {
    if (a > UINT64_MAX - b) return -1;
    *out = a + b;
    return 0;
}
static inline int lrq_mul_u64(uint64_t a, uint64_t b, uint64_t *out) {
    if (a != 0 && b > UINT64_MAX / a) return -1;
    *out = a * b;
    return 0;
}

/* Allocation helpers: on failure they record "out of memory (N bytes)" and
 * return NULL. lrq_calloc checks n*size for overflow. */
void *lrq_malloc(size_t size);
void *lrq_calloc(size_t n, size_t size);
void *lrq_realloc(void *p, size_t size);
char *lrq_strdup(const char *s);
/* Aligned allocation (alignment a power of two ≥ sizeof(void*)); free with lrq_free_aligned. */
void *lrq_malloc_aligned(size_t size, size_t alignment);
void lrq_free_aligned(void *p);

/* ---- half precision (IEEE binary16) and bfloat16 ----
 * Conversions are exact bit-level emulations of what x86 F16C
 * (vcvtps2ph, round-to-nearest-even) and llama.cpp's bf16 path do, so they
 * give identical results on every ISA. */
typedef uint16_t lrq_f16;
typedef uint16_t lrq_bf16;

static inline float lrq_bits_to_f32(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }
static inline uint32_t lrq_f32_to_bits(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }

/* binary16 -> float: exact. */
static inline float lrq_f16_to_f32(lrq_f16 h) {
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t exp = (h >> 10) & 0x1fu;
    uint32_t man = h & 0x3ffu;
    uint32_t u;
    if (exp == 0) {
        if (man == 0) {
            u = sign;
        } else { /* subnormal: normalise */
            int e = -1;
            do { e++; man <<= 1; } while ((man & 0x400u) == 0);
            u = sign | ((uint32_t)(127 - 15 - e) << 23) | ((man & 0x3ffu) << 13);
        }
    } else if (exp == 31) { /* inf, or NaN: F16C (vcvtph2ps) returns it quieted */
        u = sign | 0x7f800000u | (man << 13) | (man ? 0x00400000u : 0u);
    } else {
        u = sign | ((exp + 127 - 15) << 23) | (man << 13);
    }
    return lrq_bits_to_f32(u);
}

/* float -> binary16 with round-to-nearest-even (what F16C does with imm 0). */
static inline lrq_f16 lrq_f32_to_f16(float f) {
    uint32_t x = lrq_f32_to_bits(f);
    uint32_t sign = (x >> 16) & 0x8000u;
    uint32_t ax = x & 0x7fffffffu;
    if (ax >= 0x7f800000u) { /* inf or nan */
        return (lrq_f16)(sign | 0x7c00u | (ax > 0x7f800000u ? (0x200u | ((ax >> 13) & 0x3ffu)) : 0));
    }
    if (ax >= 0x477ff000u) return (lrq_f16)(sign | 0x7c00u); /* rounds to >= 65520: inf */
    if (ax < 0x38800000u) { /* result is subnormal or zero */
        if (ax < 0x33000000u) return (lrq_f16)sign; /* < 2^-25: rounds to 0 (2^-25 itself ties to even 0) */
        uint32_t e = ax >> 23;
        uint32_t m = (ax & 0x7fffffu) | 0x800000u;
        uint32_t shift = 126 - e; /* 14 + (113 - e) - 1 ... */
        /* value = m * 2^(e-150); target units 2^-24 -> shift right by (126 - e) */
        uint32_t q = m >> shift;
        uint32_t rem = m & ((1u << shift) - 1);
        uint32_t half = 1u << (shift - 1);
        if (rem > half || (rem == half && (q & 1))) q++;
        return (lrq_f16)(sign | q);
    }
    uint32_t r = ax + 0xfffu + ((ax >> 13) & 1u) - (112u << 23);
    return (lrq_f16)(sign | (r >> 13));
}

static inline float lrq_bf16_to_f32(lrq_bf16 h) { return lrq_bits_to_f32((uint32_t)h << 16); }

/* float -> bfloat16, round-to-nearest-even; NaN kept quiet (as llama.cpp). */
static inline lrq_bf16 lrq_f32_to_bf16(float f) {
    uint32_t u = lrq_f32_to_bits(f);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (lrq_bf16)((u >> 16) | 64);
    return (lrq_bf16)((u + (0x7fffu + ((u >> 16) & 1u))) >> 16);
}

#endif
