/*
 * tests/test-idmap.c — the model's key -> record table (harness/idmap.c).
 *
 * Method: keys shaped like the trace's (an owner id in the high half, a
 * small object id in the low half, negative ones too), enough of them to
 * grow the slot array several times; each case checks what the model
 * relies on: a lookup finds exactly what was inserted, a new record is
 * zero-filled, a record never moves while the table grows, and a cleared
 * table forgets everything, runs fini once per record, and is usable again.
 */
#include <glib.h>

#include "idmap.h"

typedef struct {
    int64_t key;
    uint64_t payload;
    char pad[40];
} Rec;

static int64_t key_of(unsigned i)
{
    /* Three owners, ids 0..; every fifth key negative. */
    int64_t k = (int64_t)(1000 + i % 3) << 32 | (int64_t)(i / 3);

    return i % 5 == 4 ? -k : k;
}

#define N 1000

static void test_lookup_and_growth(void)
{
    IdMap m;
    Rec *first[N];

    idmap_init(&m, sizeof(Rec));
    g_assert_null(idmap_lookup(&m, 0));
    for (unsigned i = 0; i < N; i++) {
        Rec *r = idmap_get(&m, key_of(i));

        g_assert_cmpint(r->key, ==, 0);         /* zero-filled */
        g_assert_cmpuint(r->payload, ==, 0);
        r->key = key_of(i);
        r->payload = i * 7u + 1;
        first[i] = r;
        g_assert_cmpuint(m.count, ==, i + 1);
    }
    for (unsigned i = 0; i < N; i++) {
        /* Found again, not moved by the growth since, not re-created. */
        g_assert_true(idmap_lookup(&m, key_of(i)) == first[i]);
        g_assert_true(idmap_get(&m, key_of(i)) == first[i]);
        g_assert_cmpuint(first[i]->payload, ==, i * 7u + 1);
    }
    g_assert_cmpuint(m.count, ==, N);
    g_assert_null(idmap_lookup(&m, key_of(N)));
    g_assert_null(idmap_lookup(&m, (int64_t)1000 << 32 | 999999));
    /* Iteration: every record once, in insertion order, with its key. */
    for (uint32_t i = 0; i < m.count; i++) {
        int64_t key;
        Rec *r = idmap_at(&m, i, &key);

        g_assert_true(r == first[i]);
        g_assert_cmpint(key, ==, key_of(i));
    }
    idmap_destroy(&m, NULL);
}

static unsigned fini_calls;
static uint64_t fini_sum;

static void rec_fini(void *p)
{
    fini_calls++;
    fini_sum += ((Rec *)p)->payload;
}

static void test_clear_and_reuse(void)
{
    IdMap m;
    uint64_t sum = 0;

    idmap_init(&m, sizeof(Rec));
    for (int round = 0; round < 3; round++) {
        unsigned n = 100 + round * 300;

        for (unsigned i = 0; i < n; i++) {
            Rec *r = idmap_get(&m, key_of(i));

            g_assert_cmpuint(r->payload, ==, 0);    /* nothing survives */
            r->payload = i + 1;
        }
        sum = (uint64_t)n * (n + 1) / 2;
        fini_calls = 0;
        fini_sum = 0;
        idmap_clear(&m, rec_fini);
        g_assert_cmpuint(fini_calls, ==, n);
        g_assert_cmpuint(fini_sum, ==, sum);
        g_assert_cmpuint(m.count, ==, 0);
        for (unsigned i = 0; i < n; i++) {
            g_assert_null(idmap_lookup(&m, key_of(i)));
        }
    }
    idmap_destroy(&m, rec_fini);
    g_assert_cmpuint(m.count, ==, 0);
    g_assert_null(idmap_lookup(&m, key_of(0)));
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/idmap/lookup-and-growth", test_lookup_and_growth);
    g_test_add_func("/idmap/clear-and-reuse", test_clear_and_reuse);
    return g_test_run();
}
