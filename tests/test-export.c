/*
 * tests/test-export.c — the trace exporters (harness/export-*.c) give output
 * that parses, whatever bytes the event names hold.
 *
 * Method: a hand-built event array stands in for a run (no simulation is
 * started): two threads, a poll with a block inside it, BHs, a fault, a
 * thread left blocked at the end, and a name full of quotes, backslashes,
 * controls and invalid UTF-8.  Each format is written to memory and read
 * back by a strict checker: a small RFC 8259 parser below for JSON (no
 * python needed), GMarkup for the SVG (it rejects malformed XML and
 * invalid UTF-8).  Then the structure is checked — one Chrome thread_name
 * per thread, balanced B/E per tid, one SVG lane label per thread — and
 * every exporter is run twice to compare the bytes.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "export.h"
#include "os.h"

/* ---- a strict JSON parser (RFC 8259), just enough to inspect output ------ */

typedef enum { J_NULL, J_BOOL, J_NUM, J_STR, J_ARR, J_OBJ } JType;

typedef struct JVal {
    JType type;
    bool b;
    double num;
    char *str;                  /* J_STR: decoded UTF-8 */
    GPtrArray *items;           /* J_ARR: values; J_OBJ: key, value, ... */
} JVal;

typedef struct JParser {
    const char *p, *end;
    int depth;
} JParser;

static void j_free(JVal *v)
{
    if (!v) {
        return;
    }
    g_free(v->str);
    if (v->items) {
        g_ptr_array_free(v->items, TRUE);
    }
    g_free(v);
}

static JVal *j_new(JType type)
{
    JVal *v = g_new0(JVal, 1);

    v->type = type;
    if (type == J_ARR || type == J_OBJ) {
        v->items = g_ptr_array_new_with_free_func((GDestroyNotify)j_free);
    }
    return v;
}

static void j_ws(JParser *jp)
{
    while (jp->p < jp->end && (*jp->p == ' ' || *jp->p == '\t' ||
                               *jp->p == '\n' || *jp->p == '\r')) {
        jp->p++;
    }
}

static bool j_lit(JParser *jp, const char *lit)
{
    size_t len = strlen(lit);

    if ((size_t)(jp->end - jp->p) < len || memcmp(jp->p, lit, len) != 0) {
        return false;
    }
    jp->p += len;
    return true;
}

static int j_hex4(JParser *jp)
{
    int v = 0;

    if (jp->end - jp->p < 4) {
        return -1;
    }
    for (int i = 0; i < 4; i++) {
        int d = g_ascii_xdigit_value(*jp->p++);

        if (d < 0) {
            return -1;
        }
        v = v * 16 + d;
    }
    return v;
}

/* \uXXXX (after the 'u'), with surrogate pairs; lone surrogates fail. */
static bool j_unicode(JParser *jp, GString *out)
{
    int hi = j_hex4(jp), lo;

    if (hi < 0 || (hi >= 0xdc00 && hi <= 0xdfff)) {
        return false;
    }
    if (hi >= 0xd800 && hi <= 0xdbff) {
        if (!j_lit(jp, "\\u") || (lo = j_hex4(jp)) < 0xdc00 || lo > 0xdfff) {
            return false;
        }
        hi = 0x10000 + ((hi - 0xd800) << 10) + (lo - 0xdc00);
    }
    g_string_append_unichar(out, (gunichar)hi);
    return true;
}

static JVal *j_string(JParser *jp)
{
    g_autoptr(GString) s = g_string_new(NULL);
    JVal *v;

    if (!j_lit(jp, "\"")) {
        return NULL;
    }
    for (;;) {
        unsigned char c;
        const char *esc;

        if (jp->p >= jp->end) {
            return NULL;
        }
        c = (unsigned char)*jp->p++;
        if (c == '"') {
            break;
        }
        if (c < 0x20) {
            return NULL;        /* raw control characters are not JSON */
        }
        if (c != '\\') {
            g_string_append_c(s, (char)c);
            continue;
        }
        if (jp->p >= jp->end) {
            return NULL;
        }
        c = (unsigned char)*jp->p++;
        if (c == 'u') {
            if (!j_unicode(jp, s)) {
                return NULL;
            }
        } else if (c && (esc = strchr("\"\\/bfnrt", c))) {
            g_string_append_c(s, "\"\\/\b\f\n\r\t"[esc - "\"\\/bfnrt"]);
        } else {
            return NULL;
        }
    }
    v = j_new(J_STR);
    v->str = g_strdup(s->str);
    return v;
}

static bool j_digits(JParser *jp)
{
    const char *start = jp->p;

    while (jp->p < jp->end && g_ascii_isdigit(*jp->p)) {
        jp->p++;
    }
    return jp->p > start;
}

/* -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)? */
static JVal *j_number(JParser *jp)
{
    const char *start = jp->p;
    g_autofree char *text = NULL;
    JVal *v;

    j_lit(jp, "-");
    if (j_lit(jp, "0")) {
        if (jp->p < jp->end && g_ascii_isdigit(*jp->p)) {
            return NULL;        /* no leading zeros */
        }
    } else if (!j_digits(jp)) {
        return NULL;
    }
    if (j_lit(jp, ".") && !j_digits(jp)) {
        return NULL;
    }
    if (j_lit(jp, "e") || j_lit(jp, "E")) {
        if (!j_lit(jp, "+")) {
            j_lit(jp, "-");
        }
        if (!j_digits(jp)) {
            return NULL;
        }
    }
    text = g_strndup(start, (gsize)(jp->p - start));
    v = j_new(J_NUM);
    v->num = g_ascii_strtod(text, NULL);
    return v;
}

static JVal *j_value(JParser *jp);

/* Array or object: items separated by commas, no trailing comma. */
static JVal *j_container(JParser *jp, bool object)
{
    JVal *v = j_new(object ? J_OBJ : J_ARR);
    const char *close = object ? "}" : "]";

    jp->p++;
    j_ws(jp);
    if (j_lit(jp, close)) {
        return v;
    }
    for (;;) {
        JVal *item;

        j_ws(jp);
        if (object) {
            JVal *key = j_string(jp);

            j_ws(jp);
            if (!key || !j_lit(jp, ":")) {
                j_free(key);
                goto fail;
            }
            g_ptr_array_add(v->items, key);
        }
        if (!(item = j_value(jp))) {
            goto fail;
        }
        g_ptr_array_add(v->items, item);
        j_ws(jp);
        if (j_lit(jp, close)) {
            return v;
        }
        if (!j_lit(jp, ",")) {
            goto fail;
        }
    }
fail:
    j_free(v);
    return NULL;
}

static JVal *j_value(JParser *jp)
{
    JVal *v = NULL;

    j_ws(jp);
    if (jp->p >= jp->end || ++jp->depth > 64) {
        return NULL;
    }
    switch (*jp->p) {
    case '{': v = j_container(jp, true); break;
    case '[': v = j_container(jp, false); break;
    case '"': v = j_string(jp); break;
    case 't': case 'f':
        if (j_lit(jp, "true")) {
            v = j_new(J_BOOL);
            v->b = true;
        } else if (j_lit(jp, "false")) {
            v = j_new(J_BOOL);
        }
        break;
    case 'n':
        v = j_lit(jp, "null") ? j_new(J_NULL) : NULL;
        break;
    default:
        v = j_number(jp);
    }
    jp->depth--;
    return v;
}

/* The whole text must be one JSON value in valid UTF-8; else NULL. */
static JVal *json_parse(const char *text, size_t len)
{
    JParser jp = { text, text + len, 0 };
    JVal *v;

    if (memchr(text, 0, len) || !g_utf8_validate(text, (gssize)len, NULL)) {
        return NULL;
    }
    v = j_value(&jp);
    j_ws(&jp);
    if (v && jp.p != jp.end) {
        j_free(v);
        return NULL;
    }
    return v;
}

static JVal *j_get(const JVal *obj, const char *key)
{
    g_assert_cmpint(obj->type, ==, J_OBJ);
    for (guint i = 0; i + 1 < obj->items->len; i += 2) {
        JVal *k = obj->items->pdata[i];

        if (strcmp(k->str, key) == 0) {
            return obj->items->pdata[i + 1];
        }
    }
    return NULL;
}

static const char *j_str(const JVal *obj, const char *key)
{
    JVal *v = j_get(obj, key);

    return v && v->type == J_STR ? v->str : NULL;
}

static double j_num(const JVal *obj, const char *key)
{
    JVal *v = j_get(obj, key);

    g_assert_nonnull(v);
    g_assert_cmpint(v->type, ==, J_NUM);
    return v->num;
}

static void test_json_parser_is_strict(void)
{
    static const char *const bad[] = {
        "{\"a\":1,}", "[1,]", "\"a\x01\"", "\"\\x\"", "01", "1.", "\"\\ud800\"",
        "{\"a\" 1}", "[1] 2", "\"\xff\"", "nul", "-", "{'a':1}",
    };
    static const char *const good[] = {
        "{\"a\":[1,-2.5e3,true,false,null,\"\\u00e9\\ud83d\\ude00\\n\"]}", "0",
        " [ ] ",
    };

    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_assert_null(json_parse(bad[i], strlen(bad[i])));
    }
    for (size_t i = 0; i < G_N_ELEMENTS(good); i++) {
        JVal *v = json_parse(good[i], strlen(good[i]));

        g_assert_nonnull(v);
        j_free(v);
    }
}

/* ---- the synthetic trace ------------------------------------------------- */

/* Quotes, backslash, newline, 0x01, a stray 0xff, then valid "é". */
#define WEIRD "say \"hi\"\\path\nnext\x01\xff\xc3\xa9nd"
#define WEIRD_DECODED "say \"hi\"\\path\nnext\x01\xef\xbf\xbd\xc3\xa9nd"

static const char *const thread_names[] = { "main", "wor<k>&\"er" };
static const TraceInfo info = {
    .thread_names = thread_names, .thread_count = 2,
    .title = "export test & <friends>",
};

#define EV(t, th, k, nm, a) { .time_ns = (t), .thread = (th), .kind = (k), \
                              .name = (nm), .arg = (a) }

/*
 * Thread 1 polls and blocks inside the poll; thread 2 runs, schedules a BH
 * and blocks for good (its block is still open at the end).
 */
static const SimEvent trace[] = {
    EV(1000, 1, SIM_EV_THREAD_START, "main", 1),
    EV(1000, 1, QOS_EV_BH_SCHEDULE, "A", 1),
    EV(1000, 1, QOS_EV_POLL_ENTER, "ctx", -1),
    EV(1000, 1, SIM_EV_BLOCK, NULL, 1),
    EV(1000, 2, SIM_EV_SWITCH, NULL, 2),
    EV(1000, 2, SIM_EV_THREAD_START, "worker", 2),
    EV(1000, 2, QOS_EV_BH_SCHEDULE, WEIRD, 7),
    EV(1000, 2, QOS_EV_NOTIFY, "ctx", 0),
    EV(1000, 2, SIM_EV_BLOCK, NULL, 3),
    EV(2000, 2, SIM_EV_CLOCK, NULL, 2000),
    EV(2000, 1, SIM_EV_SWITCH, NULL, 1),
    EV(2000, 1, QOS_EV_POLL_EXIT, "ctx", 1),
    EV(2000, 1, QOS_EV_BH_RUN, WEIRD, 7),
    EV(2000, 1, SIM_EV_USER, "done", 0),
    EV(2000, 1, SIM_EV_FAULT, "eintr", 2),
    EV(2000, 1, QOS_EV_POLL_ENTER, "ctx", 0),
    EV(2000, 1, QOS_EV_POLL_EXIT, "ctx", 0),
    EV(3000, 1, QOS_EV_TIMER_FIRE, NULL, 5),
    EV(3000, 1, QOS_EV_FD_CALL, "read", 3),
};

static SimEvent *trace_copy(size_t *n)
{
    SimEvent *ev = g_memdup2(trace, sizeof(trace));

    *n = G_N_ELEMENTS(trace);
    for (size_t i = 0; i < *n; i++) {
        ev[i].seq = 100 + i;
        ev[i].arg2 = (int64_t)i * 3;
    }
    return ev;
}

/* A long trace: two threads taking turns with BHs, time moving now and then. */
static SimEvent *trace_long(size_t n)
{
    SimEvent *ev = g_new0(SimEvent, n);

    for (size_t i = 0; i < n; i++) {
        ev[i] = (SimEvent)EV(1000 + (int64_t)(i / 7) * 500, 1 + (i / 3) % 2,
                             i % 2 ? QOS_EV_BH_RUN : QOS_EV_BH_SCHEDULE, "bh",
                             (int64_t)i);
        ev[i].seq = i;
    }
    return ev;
}

typedef int (*ExportFn)(FILE *out, const SimEvent *ev, size_t n,
                        const TraceInfo *info);

/* The exporter's output, NUL-terminated; free() it. */
static char *export_mem(ExportFn fn, const SimEvent *ev, size_t n,
                        const TraceInfo *ti, size_t *len)
{
    char *buf = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&buf, &size);

    g_assert_nonnull(f);
    g_assert_cmpint(fn(f, ev, n, ti), ==, 0);
    g_assert_cmpint(fclose(f), ==, 0);
    *len = size;
    return buf;
}

/* ---- JSON lines ---------------------------------------------------------- */

/* Every line parses; returns the objects. */
static GPtrArray *jsonl_parse(const char *text, size_t len)
{
    GPtrArray *objs = g_ptr_array_new_with_free_func((GDestroyNotify)j_free);
    const char *p = text, *end = text + len;

    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        JVal *v;

        g_assert_nonnull(nl);   /* every line ends with a newline */
        v = json_parse(p, (size_t)(nl - p));
        if (!v) {
            g_test_message("bad JSON line: %.*s", (int)(nl - p), p);
        }
        g_assert_nonnull(v);
        g_assert_cmpint(v->type, ==, J_OBJ);
        g_ptr_array_add(objs, v);
        p = nl + 1;
    }
    return objs;
}

static void test_jsonl(void)
{
    size_t n, len;
    g_autofree SimEvent *ev = trace_copy(&n);
    char *text = export_mem(export_jsonl, ev, n, &info, &len);
    GPtrArray *objs = jsonl_parse(text, len);

    g_assert_cmpuint(objs->len, ==, n);
    for (size_t i = 0; i < n; i++) {
        JVal *o = objs->pdata[i];
        const char *want = ev[i].name;

        g_assert_cmpfloat(j_num(o, "seq"), ==, (double)ev[i].seq);
        g_assert_cmpfloat(j_num(o, "t_ns"), ==, (double)ev[i].time_ns);
        g_assert_cmpfloat(j_num(o, "thread"), ==, ev[i].thread);
        g_assert_cmpstr(j_str(o, "thread_name"), ==,
                        thread_names[ev[i].thread - 1]);
        g_assert_cmpstr(j_str(o, "kind"), ==, sim_event_kind_name(ev[i].kind));
        g_assert_cmpfloat(j_num(o, "arg"), ==, (double)ev[i].arg);
        g_assert_cmpfloat(j_num(o, "arg2"), ==, (double)ev[i].arg2);
        if (want && strcmp(want, WEIRD) == 0) {
            want = WEIRD_DECODED;
        }
        if (want) {
            g_assert_cmpstr(j_str(o, "name"), ==, want);
        } else {
            g_assert_cmpint(j_get(o, "name")->type, ==, J_NULL);
        }
    }
    g_ptr_array_free(objs, TRUE);
    free(text);
}

/* Valid UTF-8 passes through; every kind of ill-formed sequence is U+FFFD. */
static void test_jsonl_utf8(void)
{
    static const struct { const char *in, *out; } cases[] = {
        { "\xf0\x9f\x98\x80 \xe6\x97\xa5", "\xf0\x9f\x98\x80 \xe6\x97\xa5" },
        { "over\xc0\xaflong", "over\xef\xbf\xbd\xef\xbf\xbdlong" },
        { "sur\xed\xa0\x80", "sur\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" },
        { "cut\xe2\x82", "cut\xef\xbf\xbd\xef\xbf\xbd" },
        { "big\xf4\x90\x80\x80",
          "big\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" },
        { "del\x7f tab\t", "del\x7f tab\t" },
    };

    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        SimEvent ev = EV(0, 1, SIM_EV_USER, cases[i].in, 0);
        size_t len;
        char *text = export_mem(export_jsonl, &ev, 1, NULL, &len);
        GPtrArray *objs = jsonl_parse(text, len);

        g_assert_cmpuint(objs->len, ==, 1);
        g_assert_cmpstr(j_str(objs->pdata[0], "name"), ==, cases[i].out);
        g_ptr_array_free(objs, TRUE);
        free(text);
    }
}

/* ---- Chrome -------------------------------------------------------------- */

typedef struct ChromeCheck {
    unsigned thread_names;
    unsigned begins, ends, instants;
    GHashTable *depth;          /* tid -> open B count */
} ChromeCheck;

/* Parse, then walk traceEvents: B/E never go below zero per tid, ts never
 * goes back. */
static ChromeCheck chrome_check(const char *text, size_t len)
{
    ChromeCheck c = { .depth = g_hash_table_new(NULL, NULL) };
    JVal *root = json_parse(text, len), *events;
    double last_ts = -1e300;

    g_assert_nonnull(root);
    g_assert_cmpstr(j_str(root, "displayTimeUnit"), ==, "ns");
    events = j_get(root, "traceEvents");
    g_assert_nonnull(events);
    g_assert_cmpint(events->type, ==, J_ARR);
    for (guint i = 0; i < events->items->len; i++) {
        JVal *e = events->items->pdata[i];
        const char *ph = j_str(e, "ph");
        gpointer tid = GINT_TO_POINTER(j_get(e, "tid") ? (int)j_num(e, "tid")
                                                       : -1);
        int depth = GPOINTER_TO_INT(g_hash_table_lookup(c.depth, tid));

        g_assert_nonnull(ph);
        g_assert_cmpfloat(j_num(e, "ts"), >=, last_ts);
        last_ts = j_num(e, "ts");
        if (strcmp(ph, "M") == 0) {
            c.thread_names += g_strcmp0(j_str(e, "name"), "thread_name") == 0;
        } else if (strcmp(ph, "B") == 0) {
            c.begins++;
            depth++;
        } else if (strcmp(ph, "E") == 0) {
            c.ends++;
            g_assert_cmpint(--depth, >=, 0);
        } else {
            g_assert_cmpstr(ph, ==, "i");
            g_assert_cmpstr(j_str(e, "s"), ==, "t");
            c.instants++;
        }
        g_hash_table_insert(c.depth, tid, GINT_TO_POINTER(depth));
    }
    j_free(root);
    return c;
}

static void chrome_assert_balanced(ChromeCheck *c)
{
    GHashTableIter it;
    gpointer tid, depth;

    g_hash_table_iter_init(&it, c->depth);
    while (g_hash_table_iter_next(&it, &tid, &depth)) {
        g_assert_cmpint(GPOINTER_TO_INT(depth), ==, 0);
    }
    g_assert_cmpuint(c->begins, ==, c->ends);
    g_hash_table_destroy(c->depth);
}

static void test_chrome(void)
{
    size_t n, len;
    g_autofree SimEvent *ev = trace_copy(&n);
    char *text = export_mem(export_chrome, ev, n, &info, &len);
    ChromeCheck c = chrome_check(text, len);

    g_assert_cmpuint(c.thread_names, ==, 2);
    /* Slices: 2 polls and a block on thread 1, the open block on thread 2. */
    g_assert_cmpuint(c.begins, ==, 4);
    /* Everything else is an instant: the poll-exits only end slices. */
    g_assert_cmpuint(c.instants, ==, n - 4 - 2);
    chrome_assert_balanced(&c);
    g_assert_nonnull(strstr(text, "\"name\":\"poll ctx\""));
    g_assert_nonnull(strstr(text, "\"unfinished\":true"));
    free(text);
}

/* Thread 0 moves out of Perfetto's way; names come from the trace. */
static void test_chrome_thread_fallback(void)
{
    static const SimEvent ev[] = {
        EV(5, 0, SIM_EV_CLOCK, NULL, 5),
        EV(5, 1, SIM_EV_THREAD_START, "boss", 1),
        EV(5, 3, QOS_EV_POLL_EXIT, "ctx", 0),     /* unmatched: an instant */
        EV(5, 3, QOS_EV_POLL_ENTER, "ctx", 0),    /* left open at the end */
        EV(5, 3, QOS_EV_POLL_ENTER, "ctx", 0),    /* nested: an instant */
        EV(5, 3, SIM_EV_BLOCK, NULL, 2),          /* open at the end, too */
    };
    size_t len;
    char *text = export_mem(export_chrome, ev, G_N_ELEMENTS(ev), NULL, &len);
    ChromeCheck c = chrome_check(text, len);

    g_assert_cmpuint(c.thread_names, ==, 3);
    g_assert_cmpuint(c.begins, ==, 2);
    g_assert_cmpuint(c.instants, ==, 4);
    chrome_assert_balanced(&c);
    g_assert_nonnull(strstr(text, "\"tid\":1000000,\"name\":\"thread_name\","
                                  "\"args\":{\"name\":\"outside\"}"));
    g_assert_nonnull(strstr(text, "{\"name\":\"boss\"}"));
    g_assert_nonnull(strstr(text, "{\"name\":\"thread 3\"}"));
    free(text);
}

/* ---- SVG ----------------------------------------------------------------- */

typedef struct SvgCheck {
    GQueue stack;               /* element names, innermost first */
    char *root;
    unsigned marks;             /* <title> inside <rect> */
    GPtrArray *lanes;           /* text of <text class="lane"> */
    GString *lane_text;         /* being collected, or NULL */
    bool truncated_note;
} SvgCheck;

static void svg_start(GMarkupParseContext *ctx, const char *el,
                      const char **names, const char **values, gpointer data,
                      GError **err)
{
    SvgCheck *c = data;

    if (!c->root) {
        c->root = g_strdup(el);
    }
    if (strcmp(el, "title") == 0 && g_strcmp0(g_queue_peek_head(&c->stack),
                                              "rect") == 0) {
        c->marks++;
    }
    for (int i = 0; names[i]; i++) {
        if (strcmp(el, "text") == 0 && strcmp(names[i], "class") == 0 &&
            strcmp(values[i], "lane") == 0) {
            c->lane_text = g_string_new(NULL);
        }
    }
    g_queue_push_head(&c->stack, (gpointer)g_intern_string(el));
}

static void svg_end(GMarkupParseContext *ctx, const char *el, gpointer data,
                    GError **err)
{
    SvgCheck *c = data;

    g_queue_pop_head(&c->stack);
    if (c->lane_text && strcmp(el, "text") == 0) {
        g_ptr_array_add(c->lanes, g_string_free(c->lane_text, FALSE));
        c->lane_text = NULL;
    }
}

static void svg_text(GMarkupParseContext *ctx, const char *text, gsize len,
                     gpointer data, GError **err)
{
    SvgCheck *c = data;

    if (c->lane_text) {
        g_string_append_len(c->lane_text, text, (gssize)len);
    }
    if (g_strstr_len(text, (gssize)len, "truncated: showing the first 2000")) {
        c->truncated_note = true;
    }
}

/* GMarkup fails on anything that is not well-formed XML in UTF-8. */
static void svg_check(SvgCheck *c, const char *text, size_t len)
{
    static const GMarkupParser parser = {
        .start_element = svg_start, .end_element = svg_end, .text = svg_text,
    };
    GMarkupParseContext *ctx;
    GError *err = NULL;

    memset(c, 0, sizeof(*c));
    c->lanes = g_ptr_array_new_with_free_func(g_free);
    ctx = g_markup_parse_context_new(&parser, 0, c, NULL);
    if (!g_markup_parse_context_parse(ctx, text, (gssize)len, &err) ||
        !g_markup_parse_context_end_parse(ctx, &err)) {
        g_test_message("SVG: %s", err->message);
    }
    g_assert_no_error(err);
    g_markup_parse_context_free(ctx);
    g_assert_cmpstr(c->root, ==, "svg");
}

static void svg_check_free(SvgCheck *c)
{
    g_free(c->root);
    g_ptr_array_free(c->lanes, TRUE);
}

static void test_svg(void)
{
    size_t n, len;
    g_autofree SimEvent *ev = trace_copy(&n);
    char *text = export_mem(export_svg, ev, n, &info, &len);
    SvgCheck c;

    svg_check(&c, text, len);
    g_assert_cmpuint(c.marks, ==, n);
    g_assert_cmpuint(c.lanes->len, ==, 2);
    g_assert_cmpstr(c.lanes->pdata[0], ==, "main (1)");
    g_assert_cmpstr(c.lanes->pdata[1], ==, "wor<k>&\"er (2)");
    g_assert_false(c.truncated_note);
    svg_check_free(&c);
    free(text);
}

/* Past 2000 events the picture stops and says so; JSON is still whole. */
static void test_long_trace(void)
{
    size_t n = 2500, len;
    g_autofree SimEvent *ev = trace_long(n);
    char *text = export_mem(export_svg, ev, n, &info, &len);
    SvgCheck c;
    ChromeCheck cc;
    GPtrArray *objs;

    svg_check(&c, text, len);
    g_assert_cmpuint(c.marks, ==, EXPORT_SVG_EVENTS_MAX);
    g_assert_true(c.truncated_note);
    svg_check_free(&c);
    free(text);

    text = export_mem(export_chrome, ev, n, &info, &len);
    g_assert_cmpuint(len, >, 65536);    /* written in several pieces */
    cc = chrome_check(text, len);
    g_assert_cmpuint(cc.instants, ==, n);
    chrome_assert_balanced(&cc);
    free(text);

    text = export_mem(export_jsonl, ev, n, &info, &len);
    objs = jsonl_parse(text, len);
    g_assert_cmpuint(objs->len, ==, n);
    g_ptr_array_free(objs, TRUE);
    free(text);
}

/* ---- all formats --------------------------------------------------------- */

static const ExportFn exporters[] = { export_jsonl, export_chrome, export_svg };

static void test_deterministic(void)
{
    size_t n;
    g_autofree SimEvent *ev = trace_copy(&n);

    for (size_t f = 0; f < G_N_ELEMENTS(exporters); f++) {
        size_t len1, len2;
        char *a = export_mem(exporters[f], ev, n, &info, &len1);
        char *b = export_mem(exporters[f], ev, n, &info, &len2);

        g_assert_cmpmem(a, len1, b, len2);
        free(a);
        free(b);
    }
}

static void test_empty(void)
{
    size_t len;
    char *text = export_mem(export_jsonl, NULL, 0, NULL, &len);
    ChromeCheck cc;
    SvgCheck c;

    g_assert_cmpuint(len, ==, 0);
    free(text);
    text = export_mem(export_chrome, NULL, 0, &info, &len);
    cc = chrome_check(text, len);
    g_assert_cmpuint(cc.thread_names, ==, 2);
    chrome_assert_balanced(&cc);
    free(text);
    text = export_mem(export_svg, NULL, 0, &info, &len);
    svg_check(&c, text, len);
    g_assert_cmpuint(c.lanes->len, ==, 2);
    svg_check_free(&c);
    free(text);
}

/* A full disk is reported as -ENOSPC, not lost in stdio's buffer. */
static void test_write_error(void)
{
    size_t n;
    g_autofree SimEvent *ev = trace_copy(&n);

    for (size_t f = 0; f < G_N_ELEMENTS(exporters); f++) {
        FILE *full = fopen("/dev/full", "w");

        if (!full) {
            g_test_skip("no /dev/full");
            return;
        }
        g_assert_cmpint(exporters[f](full, ev, n, &info), ==, -ENOSPC);
        fclose(full);
    }
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/export/json-parser-is-strict",
                    test_json_parser_is_strict);
    g_test_add_func("/export/jsonl", test_jsonl);
    g_test_add_func("/export/jsonl-utf8", test_jsonl_utf8);
    g_test_add_func("/export/chrome", test_chrome);
    g_test_add_func("/export/chrome-thread-fallback",
                    test_chrome_thread_fallback);
    g_test_add_func("/export/svg", test_svg);
    g_test_add_func("/export/long-trace", test_long_trace);
    g_test_add_func("/export/deterministic", test_deterministic);
    g_test_add_func("/export/empty", test_empty);
    g_test_add_func("/export/write-error", test_write_error);
    return g_test_run();
}
