/* planes_q8_avx512gfni.c — planes_q8_avx512.c built again with GFNI (its
 * code fields are cut out of the packed bytes by one gf2p8affineqb instead
 * of a shift and a mask): the same kernels and the same bits, handed out by
 * kern/planes_q8.c on CPUs with GFNI (Ice Lake, Zen 4 and later; Cascade
 * Lake has VNNI but no GFNI and keeps the plain build). Compiled with the
 * AVX-512 flags plus -mgfni (CMakeLists.txt). */
#define LRQ_Q8P_GFNI 1
#include "planes_q8_avx512.c"
