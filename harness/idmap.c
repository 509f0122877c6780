/*
 * harness/idmap.c — a table from 64-bit object keys to fixed-size records.
 *
 * Method: open addressing with linear probing over a power-of-two slot
 * array at most half full; a slot holds a record index, the records sit
 * in insertion order in chunks of IDMAP_CHUNK.  Nothing is ever removed
 * but by idmap_clear, so no tombstones.  The hash is a multiply by an odd
 * constant, top bits taken: keys are an owner id in the high half and a
 * small object id in the low half, and the multiply mixes both into the
 * top.
 */
#include <string.h>

#include <glib.h>

#include "idmap.h"

#define IDMAP_MUL UINT64_C(0x9e3779b97f4a7c15)

void idmap_init(IdMap *m, size_t rec_size)
{
    g_assert(rec_size > 0);
    memset(m, 0, sizeof(*m));
    m->rec_size = rec_size;
}

static inline uint32_t slot_of(const IdMap *m, int64_t key)
{
    return (uint32_t)(((uint64_t)key * IDMAP_MUL) >> m->shift);
}

static inline void *rec_at(const IdMap *m, uint32_t i)
{
    return m->chunks[i / IDMAP_CHUNK] + (size_t)(i % IDMAP_CHUNK) * m->rec_size;
}

void *idmap_lookup(const IdMap *m, int64_t key)
{
    uint32_t mask = m->slots - 1;

    if (!m->slots) {
        return NULL;
    }
    for (uint32_t s = slot_of(m, key);; s = (s + 1) & mask) {
        uint32_t r = m->slot_rec[s];

        if (!r) {
            return NULL;
        }
        if (m->keys[r - 1] == key) {
            return rec_at(m, r - 1);
        }
    }
}

static void place(IdMap *m, uint32_t rec)
{
    uint32_t mask = m->slots - 1, s;

    for (s = slot_of(m, m->keys[rec]); m->slot_rec[s]; s = (s + 1) & mask) {
        g_assert(m->keys[m->slot_rec[s] - 1] != m->keys[rec]);
    }
    m->slot_rec[s] = rec + 1;
}

/* Room for one more record: slots at most half full, a key and a chunk. */
static void reserve(IdMap *m)
{
    uint32_t n = m->count + 1;

    if (2 * n > m->slots) {
        m->slots = m->slots ? 2 * m->slots : 32;
        m->shift = 64 - ((unsigned)g_bit_storage(m->slots) - 1);
        g_free(m->slot_rec);
        m->slot_rec = g_new0(uint32_t, m->slots);
        for (uint32_t i = 0; i < m->count; i++) {
            place(m, i);
        }
    }
    if (n > m->keys_cap) {
        m->keys_cap = m->keys_cap ? 2 * m->keys_cap : IDMAP_CHUNK;
        m->keys = g_renew(int64_t, m->keys, m->keys_cap);
    }
    if (m->count / IDMAP_CHUNK >= m->chunk_count) {
        m->chunks = g_renew(char *, m->chunks, m->chunk_count + 1);
        m->chunks[m->chunk_count++] = g_malloc(IDMAP_CHUNK * m->rec_size);
    }
}

void *idmap_get(IdMap *m, int64_t key)
{
    void *rec = idmap_lookup(m, key);
    uint32_t i;

    if (rec) {
        return rec;
    }
    reserve(m);
    i = m->count++;
    m->keys[i] = key;
    place(m, i);
    rec = rec_at(m, i);
    memset(rec, 0, m->rec_size);
    return rec;
}

void *idmap_at(const IdMap *m, uint32_t i, int64_t *key)
{
    g_assert(i < m->count);
    if (key) {
        *key = m->keys[i];
    }
    return rec_at(m, i);
}

void idmap_clear(IdMap *m, void (*fini)(void *rec))
{
    if (fini) {
        for (uint32_t i = 0; i < m->count; i++) {
            fini(rec_at(m, i));
        }
    }
    if (m->count) {
        memset(m->slot_rec, 0, m->slots * sizeof(m->slot_rec[0]));
    }
    m->count = 0;
}

void idmap_destroy(IdMap *m, void (*fini)(void *rec))
{
    idmap_clear(m, fini);
    for (uint32_t c = 0; c < m->chunk_count; c++) {
        g_free(m->chunks[c]);
    }
    g_free(m->chunks);
    g_free(m->keys);
    g_free(m->slot_rec);
    idmap_init(m, m->rec_size);
}
