/* planes.c — sizes and reference pack/unpack of planes code rows (layout in
 * fmt/planes.h). Written bit by bit for clarity: these are the definition
 * the kernels' faster readers are tested against, not a hot path. */
#include "fmt/planes.h"
#include "core/core.h"

int lrq_planes_bits_ok(int bits) { return (bits >= 2 && bits <= 6) || bits == 8; }

int lrq_planes_row_bytes(int bits, int64_t n, size_t *out) {
    if (!lrq_planes_bits_ok(bits)) return lrq_err_set("planes: unsupported code width %d bits", bits);
    if (n < 0) return lrq_err_set("planes: negative row length %lld", (long long)n);
    uint64_t nbits;
    if (lrq_mul_u64((uint64_t)n, (uint64_t)bits, &nbits) != 0 || nbits / 8 + 1 > SIZE_MAX)
        return lrq_err_set("planes: row of %lld codes overflows", (long long)n);
    *out = (size_t)(nbits / 8 + (nbits % 8 != 0));
    return 0;
}

int lrq_planes_codes_bytes(int bits, int64_t ne0, int64_t ne1, size_t *out) {
    size_t rb = 0;
    if (lrq_planes_row_bytes(bits, ne0, &rb) != 0) return -1;
    if (ne1 < 0) return lrq_err_set("planes: negative row count %lld", (long long)ne1);
    if ((uint64_t)ne1 > SIZE_MAX || lrq_mul_size(rb, (size_t)ne1, out) != 0)
        return lrq_err_set("planes: %lld x %lld codes overflow", (long long)ne1, (long long)ne0);
    return 0;
}

int lrq_planes_pack_row(int bits, int64_t n, const uint8_t *codes, uint8_t *out) {
    size_t rb = 0;
    if (lrq_planes_row_bytes(bits, n, &rb) != 0) return -1;
    memset(out, 0, rb); /* padding bits are zero by contract */
    for (int64_t j = 0; j < n; j++) {
        if (codes[j] >> bits)
            return lrq_err_set("planes: code %u at %lld does not fit in %d bits", codes[j], (long long)j, bits);
        for (int i = 0; i < bits; i++) {
            const uint64_t p = (uint64_t)j * (uint64_t)bits + (uint64_t)i;
            if ((codes[j] >> i) & 1u) out[p >> 3] = (uint8_t)(out[p >> 3] | (1u << (p & 7)));
        }
    }
    return 0;
}

int lrq_planes_unpack_row(int bits, int64_t n, const uint8_t *row, uint8_t *codes) {
    size_t rb = 0;
    if (lrq_planes_row_bytes(bits, n, &rb) != 0) return -1;
    for (int64_t j = 0; j < n; j++) {
        unsigned v = 0;
        for (int i = 0; i < bits; i++) {
            const uint64_t p = (uint64_t)j * (uint64_t)bits + (uint64_t)i;
            v |= ((row[p >> 3] >> (p & 7)) & 1u) << i;
        }
        codes[j] = (uint8_t)v;
    }
    return 0;
}
