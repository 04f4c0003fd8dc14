/* io/idmap: id maps and string dictionaries (idmap.c). */
#ifndef HM_IO_IDMAP_H
#define HM_IO_IDMAP_H

#include "core/core.h"

/* 256-bit key (a 64-hex id) -> dense u32, open addressing, one cache line per slot. */
struct io_idmap256 {
    struct io_idmap256_slot *slots;
    uint64_t mask;   /* slots - 1 */
    uint32_t n;      /* keys inserted */
};
void io_idmap256_init(struct io_idmap256 *m, uint32_t expected);
void io_idmap256_release(struct io_idmap256 *m);
/* Returns the value of key, or UINT32_MAX when absent. */
uint32_t io_idmap256_get(const struct io_idmap256 *m, const uint8_t key[32]);
/* The same in steps, to overlap cache misses: hash, prefetch, then get. */
uint64_t io_idmap256_hash(const uint8_t key[32]);
void io_idmap256_prefetch(const struct io_idmap256 *m, uint64_t hash);
uint32_t io_idmap256_get_hashed(const struct io_idmap256 *m, const uint8_t key[32], uint64_t hash);
/* Inserts key -> value unless present; returns the value now stored for key. */
uint32_t io_idmap256_put(struct io_idmap256 *m, const uint8_t key[32], uint32_t value);

/* u32 key -> dense u32, open addressing (article ids). */
struct io_idmap32 {
    uint64_t *slots; /* key << 32 | value; UINT64_MAX = empty */
    uint64_t mask;
    uint32_t n;
};
void io_idmap32_init(struct io_idmap32 *m, uint32_t expected);
void io_idmap32_release(struct io_idmap32 *m);
uint32_t io_idmap32_get(const struct io_idmap32 *m, uint32_t key);
void io_idmap32_prefetch(const struct io_idmap32 *m, uint32_t key);
uint32_t io_idmap32_put(struct io_idmap32 *m, uint32_t key, uint32_t value);

/* A string dictionary being built: code -> string, string -> code. Code 0 is always the
 * empty string (a missing value). Codes are given in order of first insertion. */
struct io_strdict {
    uint32_t n;          /* strings, including "" */
    uint64_t *off;       /* (n + 1) byte offsets into bytes */
    char *bytes;
    uint64_t n_bytes, cap_bytes;
    uint32_t cap;
    uint32_t *slots;     /* hash table of codes + 1 (0 = empty) */
    uint64_t mask;
};
void io_strdict_init(struct io_strdict *d);
void io_strdict_release(struct io_strdict *d);
uint32_t io_strdict_put(struct io_strdict *d, const char *s, size_t len);

#endif
