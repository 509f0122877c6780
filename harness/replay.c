/*
 * harness/replay.c — reading and writing replay files (see replay.h).
 *
 * Method: line-oriented; the header keys come in a fixed order so a damaged
 * file is caught at the first line that is not what it must be.  The
 * embedded scenario is handed to the .scn parser with its line numbers
 * offset, so an error inside it still points at the right line of the
 * replay file.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "qloop/qloop.h"
#include "replay.h"
#include "scn-parse.h"

#define MAGIC "qloop-replay "

bool replay_sniff(const char *text, size_t len)
{
    return len >= strlen(MAGIC) && memcmp(text, MAGIC, strlen(MAGIC)) == 0;
}

typedef struct {
    const char *text;
    size_t len, pos;
    unsigned line;
    const char *filename;
    char *err;
    size_t err_len;
} Reader;

static bool reader_error(Reader *r, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
static bool reader_error(Reader *r, const char *fmt, ...)
{
    char msg[256];
    va_list ap;

    va_start(ap, fmt);
    g_vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    g_snprintf(r->err, r->err_len, "%s:%u: %s", r->filename, r->line, msg);
    return false;
}

/* Next line (without newline) into buf; false at end of input. */
static bool next_line(Reader *r, char *buf, size_t size, bool *too_long)
{
    size_t n = 0;

    *too_long = false;
    if (r->pos >= r->len) {
        return false;
    }
    r->line++;
    while (r->pos < r->len && r->text[r->pos] != '\n') {
        char c = r->text[r->pos++];

        if (n + 1 < size) {
            buf[n++] = c == '\0' ? '\x01' : c;  /* NUL never ends a line */
        } else {
            *too_long = true;
        }
    }
    if (r->pos < r->len) {
        r->pos++;
    }
    buf[n] = '\0';
    if (n > 0 && buf[n - 1] == '\r') {
        buf[n - 1] = '\0';
    }
    return true;
}

/* Expect "key value"; value points into buf. */
static bool expect_key(Reader *r, char *buf, size_t size, const char *key,
                       char **value)
{
    bool too_long;
    size_t klen = strlen(key);

    if (!next_line(r, buf, size, &too_long)) {
        r->line++;
        return reader_error(r, "truncated file: expected '%s'", key);
    }
    if (too_long) {
        return reader_error(r, "line too long");
    }
    if (strncmp(buf, key, klen) != 0 || (buf[klen] != ' ' && buf[klen] != '\0')) {
        return reader_error(r, "expected '%s', found '%.40s'", key, buf);
    }
    *value = buf[klen] ? buf + klen + 1 : buf + klen;
    for (const char *c = *value; *c; c++) {
        if ((unsigned char)*c < 0x20 && *c != '\t') {
            return reader_error(r, "control character 0x%02x in '%s'",
                                (unsigned char)*c, key);
        }
    }
    return true;
}

static bool known_verdict(const char *name)
{
    static const SimVerdict all[] = {
        SIM_OK, SIM_HANG, SIM_LIVELOCK, SIM_REPLAY_DIVERGED, SIM_PANIC,
        SIM_ORACLE,
    };

    for (size_t i = 0; i < G_N_ELEMENTS(all); i++) {
        if (strcmp(name, sim_verdict_name(all[i])) == 0) {
            return true;
        }
    }
    /* harness/crash.c's verdicts: a sanitizer report, a crash. */
    return strcmp(name, "memory") == 0 || strcmp(name, "crash") == 0;
}

static bool parse_u64(const char *s, int base, uint64_t *out)
{
    char *end;

    if (!*s || *s == '-' || *s == '+' || *s == ' ') {
        return false;
    }
    errno = 0;
    *out = strtoull(s, &end, base);
    return errno == 0 && *end == '\0';
}

static bool read_header(Reader *r, Replay *out)
{
    char buf[512];
    char *v;
    uint64_t n;
    unsigned format;

    if (!expect_key(r, buf, sizeof(buf), "qloop-replay", &v)) {
        return false;
    }
    if (!parse_u64(v, 10, &n)) {
        return reader_error(r, "bad format version '%.20s'", v);
    }
    if (n < 1 || n > REPLAY_FORMAT_VERSION) {
        return reader_error(r, "replay format version %" PRIu64 " is not "
                            "supported (this qloop reads versions 1 to %d)",
                            n, REPLAY_FORMAT_VERSION);
    }
    format = (unsigned)n;
    if (!expect_key(r, buf, sizeof(buf), "version", &v)) {
        return false;
    }
    /* Optional: "variant NAME" for a run of a core variant (absent: the
     * production core, so older files read as they always did). */
    if (r->pos < r->len && r->len - r->pos >= 7 &&
        strncmp(r->text + r->pos, "variant", 7) == 0 &&
        (r->len - r->pos == 7 || r->text[r->pos + 7] == ' ' ||
         r->text[r->pos + 7] == '\n' || r->text[r->pos + 7] == '\r')) {
        if (!expect_key(r, buf, sizeof(buf), "variant", &v)) {
            return false;
        }
        if (!replay_variant_ok(v)) {
            return reader_error(r, "bad variant name '%.40s' (1 to %zu of "
                                "A-Z a-z 0-9 . _ -, starting with a letter "
                                "or digit)", v, sizeof(out->variant) - 1);
        }
        g_strlcpy(out->variant, v, sizeof(out->variant));
    }
    if (!expect_key(r, buf, sizeof(buf), "verdict", &v)) {
        return false;
    }
    if (!known_verdict(v)) {
        return reader_error(r, "unknown verdict '%.32s'", v);
    }
    g_strlcpy(out->verdict, v, sizeof(out->verdict));
    if (format >= 2) {
        if (!expect_key(r, buf, sizeof(buf), "signature", &v)) {
            return false;
        }
        if (!*v || strlen(v) >= sizeof(out->signature)) {
            return reader_error(r, "bad signature: empty or longer than %zu "
                                "characters", sizeof(out->signature) - 1);
        }
        g_strlcpy(out->signature, v, sizeof(out->signature));
    }
    if (!expect_key(r, buf, sizeof(buf), "hash", &v)) {
        return false;
    }
    if (strcmp(v, "-") != 0) {
        if (strlen(v) != 16 || !parse_u64(v, 16, &out->hash)) {
            return reader_error(r, "bad hash '%.20s' (16 hex digits or '-')", v);
        }
        out->has_hash = true;
    }
    if (!expect_key(r, buf, sizeof(buf), "found", &v)) {
        return false;
    }
    g_strlcpy(out->found, v, sizeof(out->found));
    if (!expect_key(r, buf, sizeof(buf), "faults", &v)) {
        return false;
    }
    if (!parse_u64(v, 10, &n) || n > SIM_FAULT_EVERY) {
        return reader_error(r, "bad fault mask '%.20s'", v);
    }
    out->faults = (unsigned)n;
    /* Optional: "memory MODE" for a run under a weak memory model (absent:
     * sc, so files from before weak memory read as they always did). */
    if (r->pos < r->len && r->len - r->pos > 7 &&
        strncmp(r->text + r->pos, "memory ", 7) == 0) {
        SimMemoryModel model;

        if (!expect_key(r, buf, sizeof(buf), "memory", &v)) {
            return false;
        }
        if (!sim_memory_parse(v, &model)) {
            return reader_error(r, "unknown memory model '%.20s' (sc, tso, "
                                "pso, c11)", v);
        }
        out->memory = model;
    }
    return true;
}

static bool read_choices(Reader *r, Replay *out)
{
    char buf[1024];
    char *v;
    uint64_t count;
    size_t have = 0;

    if (!expect_key(r, buf, sizeof(buf), "choices", &v)) {
        return false;
    }
    if (!parse_u64(v, 10, &count) || count > 100 * 1000 * 1000) {
        return reader_error(r, "bad choice count '%.20s'", v);
    }
    out->choices = g_new(uint32_t, count ? count : 1);
    out->choice_count = (size_t)count;
    while (have < count) {
        bool too_long;
        char *save = NULL;

        if (!next_line(r, buf, sizeof(buf), &too_long)) {
            r->line++;
            return reader_error(r, "truncated file: %zu of %" PRIu64
                                " choices", have, count);
        }
        if (too_long) {
            return reader_error(r, "line too long");
        }
        for (char *tok = strtok_r(buf, " \t", &save); tok;
             tok = strtok_r(NULL, " \t", &save)) {
            uint64_t c;

            if (!parse_u64(tok, 10, &c) || c > UINT32_MAX) {
                return reader_error(r, "bad choice '%.20s'", tok);
            }
            if (have == count) {
                return reader_error(r, "more choices than the %" PRIu64
                                    " announced", count);
            }
            out->choices[have++] = (uint32_t)c;
        }
    }
    return true;
}

bool replay_parse(const char *text, size_t len, const char *filename,
                  Replay *out, char *err, size_t err_len)
{
    Reader r = { text, len, 0, 0, filename, err, err_len };
    char buf[64];
    char *v;
    size_t scn_start, scn_end;
    unsigned scn_first_line;
    char scn_err[512];

    memset(out, 0, sizeof(*out));
    if (!read_header(&r, out) || !read_choices(&r, out) ||
        !expect_key(&r, buf, sizeof(buf), "scenario", &v)) {
        replay_clear(out);
        return false;
    }
    /* The scenario runs to a line that is exactly "end". */
    scn_start = r.pos;
    scn_first_line = r.line;
    for (;;) {
        size_t line_start = r.pos;
        bool too_long;
        char line[8];

        if (r.pos >= r.len) {
            r.line++;
            reader_error(&r, "truncated file: no 'end' after the scenario");
            replay_clear(out);
            return false;
        }
        next_line(&r, line, sizeof(line), &too_long);
        if (!too_long && strcmp(line, "end") == 0) {
            scn_end = line_start;
            break;
        }
    }
    if (!scn_parse(text + scn_start, scn_end - scn_start, filename,
                   &out->scenario, scn_err, sizeof(scn_err))) {
        /* Re-base the parser's line number onto the replay file. */
        const char *colon = strchr(scn_err + strlen(filename), ':');
        unsigned line = colon ? (unsigned)strtoul(colon + 1, NULL, 10) : 0;
        const char *msg = colon ? strchr(colon + 1, ':') : NULL;

        g_snprintf(err, err_len, "%s:%u:%s", filename, scn_first_line + line,
                   msg ? msg + 1 : scn_err);
        replay_clear(out);
        return false;
    }
    return true;
}

bool replay_variant_ok(const char *name)
{
    size_t n = strlen(name);

    if (n == 0 || n >= sizeof(((Replay *)NULL)->variant) ||
        !g_ascii_isalnum(name[0])) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        if (!g_ascii_isalnum(name[i]) && name[i] != '.' && name[i] != '_' &&
            name[i] != '-') {
            return false;
        }
    }
    return true;
}

int replay_write(FILE *out, const Replay *r)
{
    /* Format 1 unless there is a signature: files of every other verdict
     * stay readable by an older qloop. */
    fprintf(out, "qloop-replay %d\n", r->signature[0] ? 2 : 1);
    fprintf(out, "version %s\n", QLOOP_VERSION);
    if (r->variant[0]) {
        fprintf(out, "variant %s\n", r->variant);
    }
    fprintf(out, "verdict %s\n", r->verdict[0] ? r->verdict : "ok");
    if (r->signature[0]) {
        fprintf(out, "signature %s\n", r->signature);
    }
    if (r->has_hash) {
        fprintf(out, "hash %016" PRIx64 "\n", r->hash);
    } else {
        fprintf(out, "hash -\n");
    }
    fprintf(out, "found %s\n", r->found);   /* may be empty: read back as "" */
    fprintf(out, "faults %u\n", r->faults);
    if (r->memory != SIM_MEMORY_SC) {
        fprintf(out, "memory %s\n", sim_memory_name(r->memory));
    }
    fprintf(out, "choices %zu\n", r->choice_count);
    for (size_t i = 0; i < r->choice_count; i++) {
        fprintf(out, "%u%s", r->choices[i],
                (i % 32 == 31 || i + 1 == r->choice_count) ? "\n" : " ");
    }
    fprintf(out, "scenario\n");
    scn_print(&r->scenario, out);
    fprintf(out, "end\n");
    return ferror(out) ? -EIO : 0;
}

void replay_clear(Replay *r)
{
    g_free(r->choices);
    r->choices = NULL;
    r->choice_count = 0;
}

void replay_config(const Replay *r, SimConfig *config)
{
    sim_config_default(config);
    config->tape = SIM_TAPE_REPLAY;
    config->replay = r->choices;
    config->replay_len = r->choice_count;
    config->faults = r->faults;
    config->memory = r->memory;
}
