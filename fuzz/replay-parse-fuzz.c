/*
 * fuzz/replay-parse-fuzz.c — the replay-file reader and writer.
 *
 * Replay files are mailed, committed and edited by hand, so replay_parse()
 * must survive any bytes, and replay_write() must write what it reads back.
 *
 * Method: parse the input as-is (libFuzzer's buffer is exactly the input's
 * length, so ASan sees any read past it).  On failure the message must be
 * one line naming the file.  On success, write the record to a memory
 * stream, parse that, and abort() unless the two records are equal (every
 * field, the scenario by scn_equal) and the written text is a fixed point
 * of write(parse(...)).
 *
 *   fuzz/build.sh libfuzzer && build/fuzz/libfuzzer/replay-parse-fuzz \
 *       -dict=build/fuzz/replay-parse.dict corpus/replay-parse
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "replay.h"
#include "scn-parse.h"
#include "exec-count.h"

/* ~100 KB each (the scenario): static, not on the fuzzer's stack. */
static Replay first, second;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *write_text(const Replay *r, size_t *len)
{
    char *buf = NULL;
    FILE *f = open_memstream(&buf, len);

    if (!f || replay_write(f, r) < 0) {
        abort();
    }
    fclose(f);
    return buf;
}

static G_NORETURN void fail(const char *why, const uint8_t *data, size_t size,
                            const char *text)
{
    fprintf(stderr, "replay-parse-fuzz: %s\n--- input (%zu bytes):\n%.*s\n"
            "--- written:\n%s\n", why, size, (int)size, (const char *)data,
            text ? text : "");
    abort();
}

static const char *differs(const Replay *a, const Replay *b)
{
    if (strcmp(a->verdict, b->verdict) != 0) {
        return "verdict differs after write + parse";
    }
    if (strcmp(a->signature, b->signature) != 0) {
        return "signature differs after write + parse";
    }
    if (a->has_hash != b->has_hash || (a->has_hash && a->hash != b->hash)) {
        return "hash differs after write + parse";
    }
    if (strcmp(a->variant, b->variant) != 0) {
        return "variant differs after write + parse";
    }
    if (strcmp(a->found, b->found) != 0) {
        return "'found' differs after write + parse";
    }
    if (a->faults != b->faults) {
        return "fault mask differs after write + parse";
    }
    if (a->memory != b->memory) {
        return "memory model differs after write + parse";
    }
    if (a->choice_count != b->choice_count ||
        (a->choice_count &&
         memcmp(a->choices, b->choices,
                a->choice_count * sizeof(*a->choices)) != 0)) {
        return "choices differ after write + parse";
    }
    if (!scn_equal(&a->scenario, &b->scenario)) {
        return "scenario differs after write + parse";
    }
    return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[512];
    char *once, *twice;
    size_t once_len, twice_len;
    const char *why;

    fuzz_exec_count();
    if (!replay_parse((const char *)data, size, "fuzz.replay", &first, err,
                      sizeof(err))) {
        if (strncmp(err, "fuzz.replay:", 12) != 0 || strchr(err, '\n')) {
            fail(err, data, size, NULL);
        }
        return 0;
    }
    once = write_text(&first, &once_len);
    if (!replay_parse(once, once_len, "written.replay", &second, err,
                      sizeof(err))) {
        fail(err, data, size, once);
    }
    why = differs(&first, &second);
    if (why) {
        fail(why, data, size, once);
    }
    twice = write_text(&second, &twice_len);
    if (once_len != twice_len || memcmp(once, twice, once_len) != 0) {
        fail("writing is not a fixed point", data, size, once);
    }
    free(once);
    free(twice);
    replay_clear(&first);
    replay_clear(&second);
    return 0;
}
