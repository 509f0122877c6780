/*
 * fuzz/scn-parse-fuzz.c — libFuzzer target for the .scn parser and printer.
 *
 * The parser reads text from people and from other tools, so it must
 * survive any bytes; the printer must write what the parser reads back.
 *
 * Method: parse the input as-is (libFuzzer's buffer is exactly the input's
 * length, so ASan sees any read past it).  On failure, the message must be
 * one line naming the file.  On success, print to a memory stream, parse
 * that, and abort() unless the two scenarios are equal (scn_equal) and
 * the printed text is a fixed point of print(parse(...)).
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -Iharness -Isim -Iinclude \
 *         fuzz/scn-parse-fuzz.c harness/scn.c harness/scn-parse.c \
 *         $(pkg-config --cflags --libs glib-2.0) -o scn-parse-fuzz
 *   ./scn-parse-fuzz -dict=fuzz/scn.dict corpus/scn docs/examples
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scn-parse.h"
#include "exec-count.h"

/* ~110 KB each: static, not on the fuzzer's stack. */
static Scenario first, second;

static char *print(const Scenario *s, size_t *len)
{
    char *buf = NULL;
    FILE *f = open_memstream(&buf, len);

    if (!f) {
        abort();
    }
    scn_print(s, f);
    fclose(f);
    return buf;
}

static void fail(const char *why, const uint8_t *data, size_t size, const char *text)
{
    fprintf(stderr, "scn-parse-fuzz: %s\n--- input (%zu bytes):\n%.*s\n--- printed:\n%s\n",
            why, size, (int)size, (const char *)data, text ? text : "");
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[256];
    char *once, *twice;
    size_t once_len, twice_len;

    fuzz_exec_count();
    if (!scn_parse((const char *)data, size, "fuzz.scn", &first, err, sizeof err)) {
        if (strncmp(err, "fuzz.scn:", 9) != 0 || strchr(err, '\n')) {
            fail(err, data, size, NULL);
        }
        return 0;
    }
    once = print(&first, &once_len);
    if (!scn_parse(once, once_len, "printed.scn", &second, err, sizeof err)) {
        fail(err, data, size, once);
    }
    if (!scn_equal(&first, &second)) {
        fail("re-parsed scenario differs", data, size, once);
    }
    twice = print(&second, &twice_len);
    if (once_len != twice_len || memcmp(once, twice, once_len) != 0) {
        fail("printing is not a fixed point", data, size, once);
    }
    free(once);
    free(twice);
    return 0;
}
