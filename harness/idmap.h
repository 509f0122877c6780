/*
 * harness/idmap.h — a table from 64-bit object keys to fixed-size records.
 *
 * The reference model looks up a record for nearly every event of a run
 * (its context, its BH, its timer): through GHashTable that was a hashed
 * call through two function pointers, a malloc for the key and one for the
 * record, and a table built and torn down per run — a tenth of a fuzzer
 * iteration.  Here a lookup is a multiply and a probe or two; records live
 * in chunks that are never moved (a pointer to one stays valid until the
 * table is cleared) and are kept, zeroed, for the next run.
 *
 * Iteration (idmap_count/idmap_at) is in insertion order.  No caller may
 * depend on an order: the model picks its answers by lowest key.
 */
#ifndef QLOOP_IDMAP_H
#define QLOOP_IDMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IDMAP_CHUNK 32          /* records per chunk */

typedef struct IdMap {
    size_t rec_size;            /* bytes per record */
    uint32_t count;             /* records in use */
    uint32_t slots;             /* power of two; 0 before the first insert */
    unsigned shift;             /* 64 - log2(slots): the hash's top bits */
    uint32_t *slot_rec;         /* slot -> record index + 1; 0: empty */
    int64_t *keys;              /* record index -> key */
    uint32_t keys_cap;
    char **chunks;              /* record index / IDMAP_CHUNK -> chunk */
    uint32_t chunk_count;
} IdMap;

void idmap_init(IdMap *m, size_t rec_size);
/* The record of key, or NULL. */
void *idmap_lookup(const IdMap *m, int64_t key);
/* The record of key, created zero-filled if there was none. */
void *idmap_get(IdMap *m, int64_t key);
/* Record i (0 <= i < m->count) and its key. */
void *idmap_at(const IdMap *m, uint32_t i, int64_t *key);
/* Forget every record, calling fini on each first (may be NULL); the
 * memory stays for the next records. */
void idmap_clear(IdMap *m, void (*fini)(void *rec));
/* idmap_clear, then free everything. */
void idmap_destroy(IdMap *m, void (*fini)(void *rec));

#endif
