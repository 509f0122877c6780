/*
 * harness/export.c — trace exporters: JSON lines, Chrome trace-event JSON,
 * an SVG timeline.
 *
 * Method: each exporter walks the event array front to back and appends
 * its text to one GString, handed to stdio in 64 KiB pieces; the first
 * failed write is remembered (errno) and the rest is dropped.  Everything
 * printed is an integer — times are formatted from integer nanoseconds —
 * so the bytes depend neither on the C library's float printing nor on the
 * locale.  Names go through one of two escapers that validate UTF-8 as they
 * go: JSON gets \uXXXX for control characters and \ufffd for invalid bytes;
 * XML gets entities, and U+FFFD for what XML 1.0 cannot carry at all.
 *
 * Threads become lanes: the sorted ids 1..thread_count plus every id seen
 * in the events.  Slices are inferred per lane by one small state machine
 * that Chrome and SVG share (span_step): a poll lasts from poll-enter to
 * poll-exit; a block lasts until the thread's next event of its own —
 * normally its switch-in, which the simulator records on the thread
 * switched to (not the clock moving meanwhile, see span_step).  That event
 * ends the open block before anything else, so a block always nests inside
 * an open poll and begin/end pairs balance by construction; whatever is
 * still open at the end of the trace is closed there.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "export.h"
#include "os.h"

/* ---- output: one buffer, first error sticks ----------------------------- */

#define OUT_CHUNK 65536

typedef struct Out {
    FILE *file;
    GString *buf;
    int err;                    /* first errno from stdio; then no writes */
} Out;

static void out_init(Out *o, FILE *file)
{
    o->file = file;
    o->buf = g_string_sized_new(OUT_CHUNK + 1024);
    o->err = 0;
}

static void out_drain(Out *o)
{
    if (!o->err && o->buf->len) {
        errno = 0;
        if (fwrite(o->buf->str, 1, o->buf->len, o->file) != o->buf->len) {
            o->err = errno ? errno : EIO;
        }
    }
    g_string_truncate(o->buf, 0);
}

/* Called between records, so a record is never split across writes. */
static void out_record_done(Out *o)
{
    if (o->buf->len >= OUT_CHUNK) {
        out_drain(o);
    }
}

static int out_finish(Out *o)
{
    out_drain(o);
    errno = 0;
    if (fflush(o->file) == EOF && !o->err) {
        o->err = errno ? errno : EIO;
    }
    g_string_free(o->buf, TRUE);
    return -o->err;
}

static void G_GNUC_PRINTF(2, 3) out_printf(Out *o, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    g_string_append_vprintf(o->buf, fmt, ap);
    va_end(ap);
}

/* ---- escaping ----------------------------------------------------------- */

static bool utf8_cont(unsigned char c)
{
    return (c & 0xc0) == 0x80;
}

/*
 * Length of the well-formed UTF-8 sequence at p, or 0 if the byte at p does
 * not start one (RFC 3629: no overlong forms, no surrogates, nothing above
 * U+10FFFF).  Never reads past the terminating NUL: NUL is not a
 * continuation byte, so the checks stop there.
 */
static size_t utf8_len(const unsigned char *p)
{
    unsigned char c = p[0];

    if (c < 0x80) {
        return 1;
    }
    if (c < 0xc2 || c > 0xf4 || !utf8_cont(p[1])) {
        return 0;
    }
    if (c < 0xe0) {
        return 2;
    }
    if ((c == 0xe0 && p[1] < 0xa0) || (c == 0xed && p[1] > 0x9f) ||
        !utf8_cont(p[2])) {
        return 0;
    }
    if (c < 0xf0) {
        return 3;
    }
    if ((c == 0xf0 && p[1] < 0x90) || (c == 0xf4 && p[1] > 0x8f)) {
        return 0;
    }
    return utf8_cont(p[3]) ? 4 : 0;
}

static void json_ascii(GString *s, unsigned char c)
{
    switch (c) {
    case '"': g_string_append(s, "\\\""); return;
    case '\\': g_string_append(s, "\\\\"); return;
    case '\n': g_string_append(s, "\\n"); return;
    case '\r': g_string_append(s, "\\r"); return;
    case '\t': g_string_append(s, "\\t"); return;
    }
    /* DEL is legal raw JSON, but trace readers that scan with iscntrl()
     * (older Perfetto) reject it: escape it with the controls. */
    if (c < 0x20 || c == 0x7f) {
        g_string_append_printf(s, "\\u%04x", c);
    } else {
        g_string_append_c(s, (char)c);
    }
}

/* A JSON string literal, or null for a NULL name. */
static void json_str(GString *s, const char *str)
{
    const unsigned char *p = (const unsigned char *)str;

    if (!str) {
        g_string_append(s, "null");
        return;
    }
    g_string_append_c(s, '"');
    while (*p) {
        size_t len = utf8_len(p);

        if (len == 0) {
            g_string_append(s, "\\ufffd");
            p++;
        } else if (len == 1) {
            json_ascii(s, *p++);
        } else {
            g_string_append_len(s, (const char *)p, (gssize)len);
            p += len;
        }
    }
    g_string_append_c(s, '"');
}

/* XML 1.0 cannot carry these at all, not even as &#1;: C0 controls other
 * than tab/newline/return, and U+FFFE/U+FFFF. */
static bool xml_forbidden(const unsigned char *p, size_t len)
{
    if (len == 1) {
        return p[0] < 0x20 && p[0] != '\t' && p[0] != '\n' && p[0] != '\r';
    }
    return len == 3 && p[0] == 0xef && p[1] == 0xbf && p[2] >= 0xbe;
}

/* Text for an XML element or attribute; U+FFFD for what cannot go in. */
static void xml_str(GString *s, const char *str)
{
    const unsigned char *p = (const unsigned char *)(str ? str : "");

    while (*p) {
        size_t len = utf8_len(p);

        if (len == 0 || xml_forbidden(p, len)) {
            g_string_append(s, "\xef\xbf\xbd");
            p += len ? len : 1;
            continue;
        }
        switch (len == 1 ? *p : 0) {
        case '&': g_string_append(s, "&amp;"); break;
        case '<': g_string_append(s, "&lt;"); break;
        case '>': g_string_append(s, "&gt;"); break;
        case '"': g_string_append(s, "&quot;"); break;
        case '\'': g_string_append(s, "&apos;"); break;
        default: g_string_append_len(s, (const char *)p, (gssize)len);
        }
        p += len;
    }
}

/* ---- numbers: integers only, so no locale and no float rounding ---------- */

static uint64_t magnitude(int64_t v)
{
    return v < 0 ? -(uint64_t)v : (uint64_t)v;
}

/* Nanoseconds as microseconds with three decimals: 1500 -> "1.500". */
static void fmt_us(GString *s, int64_t ns)
{
    uint64_t mag = magnitude(ns);

    g_string_append_printf(s, "%s%" PRIu64 ".%03u", ns < 0 ? "-" : "",
                           mag / 1000, (unsigned)(mag % 1000));
}

/* Nanoseconds for people: 1500000 -> "1.5ms", exact, zeros trimmed. */
static void fmt_human(GString *s, int64_t ns)
{
    static const struct { uint64_t unit; int digits; const char *name; } u[] = {
        { 1000000000, 9, "s" }, { 1000000, 6, "ms" }, { 1000, 3, "us" },
        { 1, 0, "ns" },
    };
    uint64_t mag = magnitude(ns);
    unsigned i = 0;
    char frac[16];
    int len;

    while (u[i].unit > 1 && mag < u[i].unit) {
        i++;
    }
    len = snprintf(frac, sizeof(frac), "%0*" PRIu64, u[i].digits,
                   mag % u[i].unit);
    while (len > 0 && frac[len - 1] == '0') {
        frac[--len] = '\0';
    }
    g_string_append_printf(s, "%s%" PRIu64 "%s%s%s", ns < 0 ? "-" : "",
                           mag / u[i].unit, len ? "." : "", frac, u[i].name);
}

/* ---- kinds and their families ------------------------------------------ */

typedef enum {
    FAM_BH, FAM_FD, FAM_TIMER, FAM_POLL, FAM_SCHED, FAM_FAULT, FAM_USER,
    FAM_OTHER, FAM_MAX
} Family;

static const struct {
    const char *cat;            /* Chrome "cat" */
    const char *legend;
    const char *color;
} families[FAM_MAX] = {
    [FAM_BH] = { "bh", "bh", "#1f77b4" },
    [FAM_FD] = { "fd", "fd", "#2ca02c" },
    [FAM_TIMER] = { "timer", "timer / clock", "#ff7f0e" },
    [FAM_POLL] = { "poll", "notify / poll", "#8c8c8c" },
    [FAM_SCHED] = { "sched", "switch / block / thread", "#9467bd" },
    [FAM_FAULT] = { "fault", "fault", "#d62728" },
    [FAM_USER] = { "user", "user", "#000000" },
    [FAM_OTHER] = { "other", "other", "#bcbd22" },
};

/*
 * By kind name rather than by enum value: the core's list of kinds grows
 * (bh-push, fd-round, timers-run...) and a new kind lands in its family
 * without this file changing.
 */
static Family kind_family(uint32_t kind)
{
    static const struct { const char *prefix; Family family; } map[] = {
        { "bh-", FAM_BH }, { "fd-", FAM_FD }, { "timer", FAM_TIMER },
        { "clock", FAM_TIMER }, { "notify", FAM_POLL }, { "poll-", FAM_POLL },
        { "switch", FAM_SCHED }, { "block", FAM_SCHED },
        { "thread-", FAM_SCHED }, { "fault", FAM_FAULT }, { "user", FAM_USER },
    };
    const char *name = sim_event_kind_name(kind);

    for (size_t i = 0; i < G_N_ELEMENTS(map); i++) {
        if (g_str_has_prefix(name, map[i].prefix)) {
            return map[i].family;
        }
    }
    return FAM_OTHER;
}

/* The kind's name; an unknown kind keeps its number ("kind-123"). */
static const char *kind_label(uint32_t kind, char buf[24])
{
    const char *name = sim_event_kind_name(kind);

    if (name && strcmp(name, "?") != 0) {
        return name;
    }
    snprintf(buf, 24, "kind-%" PRIu32, kind);
    return buf;
}

/* ---- lanes: one per thread --------------------------------------------- */

typedef struct Lanes {
    GArray *ids;                /* uint32_t thread ids, ascending, distinct */
    GPtrArray *names;           /* char *, parallel to ids */
} Lanes;

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

    return (x > y) - (x < y);
}

static unsigned lanes_index(const Lanes *l, uint32_t id)
{
    const uint32_t *ids = (const uint32_t *)(void *)l->ids->data;
    const uint32_t *hit = bsearch(&id, ids, l->ids->len, sizeof(id), cmp_u32);

    g_assert(hit);              /* every id in the events has a lane */
    return (unsigned)(hit - ids);
}

static void lanes_collect_ids(Lanes *l, const SimEvent *ev, size_t n,
                              unsigned count)
{
    guint kept = 0;

    for (uint32_t id = 1; id <= count; id++) {
        g_array_append_val(l->ids, id);
    }
    for (size_t i = 0; i < n; i++) {
        if (i == 0 || ev[i].thread != ev[i - 1].thread) {
            g_array_append_val(l->ids, ev[i].thread);
        }
    }
    g_array_sort(l->ids, cmp_u32);
    for (guint i = 0; i < l->ids->len; i++) {
        uint32_t id = g_array_index(l->ids, uint32_t, i);

        if (kept == 0 || id != g_array_index(l->ids, uint32_t, kept - 1)) {
            g_array_index(l->ids, uint32_t, kept++) = id;
        }
    }
    g_array_set_size(l->ids, kept);
}

/* Names: the caller's, else the thread-start/exit event's, else "thread N". */
static void lanes_init(Lanes *l, const SimEvent *ev, size_t n,
                       const TraceInfo *info)
{
    unsigned count = info ? info->thread_count : 0;

    g_assert(count <= EXPORT_THREADS_MAX);
    l->ids = g_array_new(FALSE, FALSE, sizeof(uint32_t));
    l->names = g_ptr_array_new_with_free_func(g_free);
    lanes_collect_ids(l, ev, n, count);
    g_ptr_array_set_size(l->names, (gint)l->ids->len);
    for (guint i = 0; i < l->ids->len; i++) {
        uint32_t id = g_array_index(l->ids, uint32_t, i);

        if (id == 0) {
            l->names->pdata[i] = g_strdup("outside");
        } else if (id <= count && info->thread_names &&
                   info->thread_names[id - 1]) {
            l->names->pdata[i] = g_strdup(info->thread_names[id - 1]);
        }
    }
    for (size_t i = 0; i < n; i++) {
        if ((ev[i].kind == SIM_EV_THREAD_START ||
             ev[i].kind == SIM_EV_THREAD_EXIT) && ev[i].name) {
            unsigned lane = lanes_index(l, ev[i].thread);

            if (!l->names->pdata[lane]) {
                l->names->pdata[lane] = g_strdup(ev[i].name);
            }
        }
    }
    for (guint i = 0; i < l->ids->len; i++) {
        if (!l->names->pdata[i]) {
            l->names->pdata[i] = g_strdup_printf(
                "thread %" PRIu32, g_array_index(l->ids, uint32_t, i));
        }
    }
}

static const char *lanes_name(const Lanes *l, unsigned lane)
{
    return l->names->pdata[lane];
}

static void lanes_fini(Lanes *l)
{
    g_array_free(l->ids, TRUE);
    g_ptr_array_free(l->names, TRUE);
}

/* ---- slices: poll-enter..poll-exit, block..next event of the thread ----- */

#define SPAN_NONE SIZE_MAX

typedef struct LaneSpans {
    size_t poll_start;          /* index of the open poll-enter, or SPAN_NONE */
    size_t block_start;         /* index of the open block, or SPAN_NONE */
} LaneSpans;

/* What event i does to the slices of its lane. */
typedef struct SpanStep {
    size_t block_closed;        /* start of the block it ends, or SPAN_NONE */
    size_t poll_closed;         /* start of the poll it ends, or SPAN_NONE */
    bool opens;                 /* it begins a poll or block slice */
} SpanStep;

static LaneSpans *spans_new(unsigned lane_count)
{
    LaneSpans *ls = g_new(LaneSpans, lane_count ? lane_count : 1);

    for (unsigned i = 0; i < lane_count; i++) {
        ls[i].poll_start = ls[i].block_start = SPAN_NONE;
    }
    return ls;
}

/*
 * While no thread can run, the simulator records the clock moving and
 * external fds firing as events of the thread that was current — the one
 * that blocked — so those do not end its block.  Polls do not nest on one
 * thread (aio_poll cannot re-enter itself while it waits), so a second
 * poll-enter, or a poll-exit with no poll open, is shown as a plain point
 * rather than bending the slice structure.
 */
static SpanStep span_step(LaneSpans *ls, const SimEvent *ev, size_t i)
{
    SpanStep st = { SPAN_NONE, SPAN_NONE, false };

    if (ev[i].kind == SIM_EV_CLOCK || ev[i].kind == SIM_EV_USER) {
        return st;
    }
    st.block_closed = ls->block_start;
    ls->block_start = SPAN_NONE;
    if (ev[i].kind == QOS_EV_POLL_ENTER && ls->poll_start == SPAN_NONE) {
        ls->poll_start = i;
        st.opens = true;
    } else if (ev[i].kind == QOS_EV_POLL_EXIT) {
        st.poll_closed = ls->poll_start;
        ls->poll_start = SPAN_NONE;
    } else if (ev[i].kind == SIM_EV_BLOCK) {
        ls->block_start = i;
        st.opens = true;
    }
    return st;
}

/* ---- JSON lines ---------------------------------------------------------- */

static void json_event_fields(GString *s, const SimEvent *e,
                              const char *thread_name)
{
    char buf[24];

    g_string_append_printf(s, "\"seq\":%" PRIu64 ",\"t_ns\":%" PRId64
                           ",\"thread\":%" PRIu32 ",\"thread_name\":",
                           e->seq, e->time_ns, e->thread);
    json_str(s, thread_name);
    g_string_append(s, ",\"kind\":");
    json_str(s, kind_label(e->kind, buf));
    g_string_append(s, ",\"name\":");
    json_str(s, e->name);
    g_string_append_printf(s, ",\"arg\":%" PRId64 ",\"arg2\":%" PRId64,
                           e->arg, e->arg2);
}

int export_jsonl(FILE *out, const SimEvent *ev, size_t n,
                 const TraceInfo *info)
{
    Lanes lanes;
    Out o;

    out_init(&o, out);
    lanes_init(&lanes, ev, n, info);
    for (size_t i = 0; i < n; i++) {
        unsigned lane = lanes_index(&lanes, ev[i].thread);

        g_string_append_c(o.buf, '{');
        json_event_fields(o.buf, &ev[i], lanes_name(&lanes, lane));
        g_string_append(o.buf, "}\n");
        out_record_done(&o);
    }
    lanes_fini(&lanes);
    return out_finish(&o);
}

/* ---- Chrome trace-event JSON -------------------------------------------- */

/*
 * "ts" is a display clock, not the raw virtual time.  Perfetto keeps
 * timestamps as integer nanoseconds and orders equal ones as it likes, and
 * the virtual clock stands still for long runs of events.  So each event
 * is shown at its virtual time, but at least 1 ns after the previous event:
 * seq order survives any importer.  The display runs ahead of virtual time
 * by at most one nanosecond per event since the clock last moved and falls
 * back onto it when the clock jumps past; args.t_ns keeps the exact time.
 */
static int64_t display_ns(int64_t prev_ns, size_t i, int64_t time_ns)
{
    if (i > 0 && time_ns <= prev_ns && prev_ns < INT64_MAX) {
        return prev_ns + 1;
    }
    return time_ns;
}

static uint32_t chrome_tid(uint32_t thread)
{
    return thread ? thread : EXPORT_CHROME_TID_OUTSIDE;
}

/*
 * The record's opening fields.  ph and ts come first: older Perfetto
 * tokenizers find "ts" by scanning the keys in order and give up at the
 * first \u escape they meet, and names may carry escapes.
 */
static void chrome_head(Out *o, char ph, int64_t ts_ns, uint32_t thread)
{
    out_printf(o, ",\n{\"ph\":\"%c\",\"ts\":", ph);
    fmt_us(o->buf, ts_ns);
    out_printf(o, ",\"pid\":1,\"tid\":%" PRIu32, chrome_tid(thread));
}

static void chrome_metadata(Out *o, const Lanes *l, const TraceInfo *info,
                            int64_t ts_ns)
{
    out_printf(o, "{\"traceEvents\":[\n{\"ph\":\"M\",\"ts\":");
    fmt_us(o->buf, ts_ns);
    out_printf(o, ",\"pid\":1,\"name\":\"process_name\",\"args\":{\"name\":");
    json_str(o->buf, info && info->title ? info->title : "qloop simulation");
    out_printf(o, "}}");
    for (guint i = 0; i < l->ids->len; i++) {
        uint32_t id = g_array_index(l->ids, uint32_t, i);

        chrome_head(o, 'M', ts_ns, id);
        out_printf(o, ",\"name\":\"thread_name\",\"args\":{\"name\":");
        json_str(o->buf, lanes_name(l, i));
        out_printf(o, "}}");
        chrome_head(o, 'M', ts_ns, id);
        out_printf(o, ",\"name\":\"thread_sort_index\",\"args\":"
                   "{\"sort_index\":%u}}", i);
    }
}

/* A begin ('B') or instant ('i') record carrying the whole event. */
static void chrome_point(Out *o, char ph, int64_t ts_ns, const SimEvent *e,
                         const char *thread_name)
{
    char buf[24];
    const char *kind = kind_label(e->kind, buf);
    g_autofree char *title = NULL;

    if (e->kind == QOS_EV_POLL_ENTER && ph == 'B') {
        kind = "poll";
    }
    title = e->name ? g_strconcat(kind, " ", e->name, NULL) : g_strdup(kind);
    chrome_head(o, ph, ts_ns, e->thread);
    if (ph == 'i') {
        out_printf(o, ",\"s\":\"t\"");
    }
    out_printf(o, ",\"cat\":\"%s\",\"name\":",
               families[kind_family(e->kind)].cat);
    json_str(o->buf, title);
    out_printf(o, ",\"args\":{");
    json_event_fields(o->buf, e, thread_name);
    out_printf(o, "}}");
}

/* An end record; end_seq names the event that ended it (none at trace end). */
static void chrome_end(Out *o, int64_t ts_ns, uint32_t thread,
                       const SimEvent *end)
{
    chrome_head(o, 'E', ts_ns, thread);
    if (end) {
        out_printf(o, ",\"args\":{\"end_seq\":%" PRIu64 ",\"end_t_ns\":%" PRId64
                   ",\"end_arg\":%" PRId64 "}}", end->seq, end->time_ns,
                   end->arg);
    } else {
        out_printf(o, ",\"args\":{\"unfinished\":true}}");
    }
}

static void chrome_event(Out *o, LaneSpans *ls, const SimEvent *ev, size_t i,
                         int64_t ts_ns, const char *thread_name)
{
    SpanStep st = span_step(ls, ev, i);

    if (st.block_closed != SPAN_NONE) {
        chrome_end(o, ts_ns, ev[i].thread, &ev[i]);
    }
    if (st.opens) {
        chrome_point(o, 'B', ts_ns, &ev[i], thread_name);
    } else if (st.poll_closed != SPAN_NONE) {
        chrome_end(o, ts_ns, ev[i].thread, &ev[i]);
    } else {
        chrome_point(o, 'i', ts_ns, &ev[i], thread_name);
    }
}

int export_chrome(FILE *out, const SimEvent *ev, size_t n,
                  const TraceInfo *info)
{
    Lanes lanes;
    LaneSpans *ls;
    int64_t ts_ns = n ? ev[0].time_ns : 0;
    Out o;

    out_init(&o, out);
    lanes_init(&lanes, ev, n, info);
    ls = spans_new(lanes.ids->len);
    chrome_metadata(&o, &lanes, info, ts_ns);
    for (size_t i = 0; i < n; i++) {
        unsigned lane = lanes_index(&lanes, ev[i].thread);

        ts_ns = display_ns(ts_ns, i, ev[i].time_ns);
        chrome_event(&o, &ls[lane], ev, i, ts_ns, lanes_name(&lanes, lane));
        out_record_done(&o);
    }
    /* Close what the run left open, inner (block) before outer (poll). */
    for (guint lane = 0; lane < lanes.ids->len; lane++) {
        uint32_t id = g_array_index(lanes.ids, uint32_t, lane);

        if (ls[lane].block_start != SPAN_NONE) {
            chrome_end(&o, ts_ns + 1, id, NULL);
        }
        if (ls[lane].poll_start != SPAN_NONE) {
            chrome_end(&o, ts_ns + 1, id, NULL);
        }
    }
    out_printf(&o, "\n],\n\"displayTimeUnit\":\"ns\"}\n");
    g_free(ls);
    lanes_fini(&lanes);
    return out_finish(&o);
}

/* ---- SVG timeline ------------------------------------------------------- */

#define SVG_LABEL_W 160         /* lane labels, left of the events */
#define SVG_STEP_X 10           /* px per event: x is event order */
#define SVG_TOP 78              /* title, note, time labels */
#define SVG_LANE_H 34
#define SVG_MARK_W 6
#define SVG_MARK_H 18
#define SVG_SEQ_EVERY 10        /* seq labels under the lanes */
#define SVG_TIME_GAP 90         /* px between time labels, at least */
#define SVG_LEGEND_H 64
#define SVG_MIN_W 1000          /* room for the legend */

typedef struct Svg {
    Out *o;
    const SimEvent *ev;
    size_t shown;               /* min(n, EXPORT_SVG_EVENTS_MAX) are drawn */
    const Lanes *lanes;
    int width, height;
} Svg;

static int svg_x(size_t i)
{
    return SVG_LABEL_W + (int)i * SVG_STEP_X + SVG_STEP_X / 2;
}

static int svg_lane_y(unsigned lane)
{
    return SVG_TOP + (int)lane * SVG_LANE_H;
}

static int svg_lanes_bottom(const Svg *g)
{
    return svg_lane_y(g->lanes->ids->len);
}

static void svg_header(Svg *g, const TraceInfo *info, size_t n)
{
    const char *title = info && info->title ? info->title : "qloop trace";

    out_printf(g->o, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
               "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" "
               "height=\"%d\" viewBox=\"0 0 %d %d\" font-family=\"monospace\" "
               "font-size=\"12\">\n<title>", g->width, g->height, g->width,
               g->height);
    xml_str(g->o->buf, title);
    out_printf(g->o, "</title>\n<rect width=\"%d\" height=\"%d\" "
               "fill=\"#ffffff\"/>\n<text x=\"8\" y=\"20\" font-size=\"15\" "
               "font-weight=\"bold\">", g->width, g->height);
    xml_str(g->o->buf, title);
    out_printf(g->o, "</text>\n<text x=\"8\" y=\"38\" fill=\"#555555\">%zu "
               "events; x = event order (seq), dashed line = virtual clock "
               "moved; hover a mark for details</text>\n", n);
    if (g->shown < n) {
        out_printf(g->o, "<text x=\"8\" y=\"56\" fill=\"#d62728\" "
                   "font-weight=\"bold\">truncated: showing the first %zu of "
                   "%zu events</text>\n", g->shown, n);
    }
}

static void svg_lanes(Svg *g)
{
    int right = svg_x(g->shown) + SVG_STEP_X;

    for (guint lane = 0; lane < g->lanes->ids->len; lane++) {
        int y = svg_lane_y(lane);

        out_printf(g->o, "<rect x=\"0\" y=\"%d\" width=\"%d\" height=\"%d\" "
                   "fill=\"%s\"/>\n<line x1=\"%d\" y1=\"%d\" x2=\"%d\" "
                   "y2=\"%d\" stroke=\"#dddddd\"/>\n<text class=\"lane\" "
                   "x=\"8\" y=\"%d\">", y, g->width, SVG_LANE_H,
                   lane % 2 ? "#ffffff" : "#f3f3f6", SVG_LABEL_W, y +
                   SVG_LANE_H / 2, right, y + SVG_LANE_H / 2,
                   y + SVG_LANE_H / 2 + 4);
        xml_str(g->o->buf, lanes_name(g->lanes, lane));
        out_printf(g->o, " (%" PRIu32 ")</text>\n",
                   g_array_index(g->lanes->ids, uint32_t, lane));
    }
}

/* Dashed lines where virtual time moves; labels where there is room. */
static void svg_time_ticks(Svg *g)
{
    int last_label_x = -SVG_TIME_GAP;
    int bottom = svg_lanes_bottom(g);

    for (size_t i = 0; i < g->shown; i++) {
        int x = svg_x(i) - SVG_STEP_X / 2;

        if (i > 0 && g->ev[i].time_ns == g->ev[i - 1].time_ns) {
            continue;
        }
        out_printf(g->o, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" "
                   "stroke=\"#999999\" stroke-dasharray=\"3,3\"/>\n", x,
                   SVG_TOP - 12, x, bottom);
        if (x - last_label_x < SVG_TIME_GAP) {
            continue;
        }
        last_label_x = x;
        out_printf(g->o, "<text class=\"time\" x=\"%d\" y=\"%d\" "
                   "fill=\"#555555\">", x + 2, SVG_TOP - 4);
        if (i == 0) {
            g_string_append(g->o->buf, "t=");
            fmt_human(g->o->buf, g->ev[i].time_ns);
        } else {
            g_string_append(g->o->buf, "+");
            fmt_human(g->o->buf, g->ev[i].time_ns - g->ev[0].time_ns);
        }
        out_printf(g->o, "</text>\n");
    }
}

static void svg_seq_labels(Svg *g)
{
    int y = svg_lanes_bottom(g) + 14;

    for (size_t i = 0; i < g->shown; i += SVG_SEQ_EVERY) {
        out_printf(g->o, "<text x=\"%d\" y=\"%d\" fill=\"#777777\" "
                   "font-size=\"10\">%" PRIu64 "</text>\n", svg_x(i) - 2, y,
                   g->ev[i].seq);
    }
}

static void svg_band(Svg *g, unsigned lane, size_t start, size_t end,
                     bool block)
{
    int x0 = svg_x(start), x1 = svg_x(end);
    int inset = block ? 3 : 11;

    out_printf(g->o, "<rect class=\"%s\" x=\"%d\" y=\"%d\" width=\"%d\" "
               "height=\"%d\" fill=\"%s\" fill-opacity=\"0.25\"/>\n",
               block ? "blocked" : "polling", x0, svg_lane_y(lane) + inset,
               MAX(x1 - x0, 1), SVG_LANE_H - 2 * inset,
               families[block ? FAM_SCHED : FAM_POLL].color);
}

/* Bands under the marks: polling (thin grey), blocked (wide purple). */
static void svg_spans(Svg *g)
{
    guint lane_count = g->lanes->ids->len;
    LaneSpans *ls = spans_new(lane_count);

    for (size_t i = 0; i < g->shown; i++) {
        unsigned lane = lanes_index(g->lanes, g->ev[i].thread);
        SpanStep st = span_step(&ls[lane], g->ev, i);

        if (st.block_closed != SPAN_NONE) {
            svg_band(g, lane, st.block_closed, i, true);
        }
        if (st.poll_closed != SPAN_NONE) {
            svg_band(g, lane, st.poll_closed, i, false);
        }
    }
    for (unsigned lane = 0; lane < lane_count; lane++) {
        if (ls[lane].block_start != SPAN_NONE) {
            svg_band(g, lane, ls[lane].block_start, g->shown, true);
        }
        if (ls[lane].poll_start != SPAN_NONE) {
            svg_band(g, lane, ls[lane].poll_start, g->shown, false);
        }
    }
    g_free(ls);
}

static void svg_mark(Svg *g, size_t i)
{
    const SimEvent *e = &g->ev[i];
    unsigned lane = lanes_index(g->lanes, e->thread);
    Family family = kind_family(e->kind);
    /* Scheduler events are half height: they are the simulator's doing,
     * and in a busy run they would drown the loop's own events. */
    int h = family == FAM_SCHED ? SVG_MARK_H / 2 : SVG_MARK_H;
    char buf[24];

    out_printf(g->o, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" "
               "fill=\"%s\"><title>seq %" PRIu64 " t=%" PRId64 "ns ",
               svg_x(i) - SVG_MARK_W / 2,
               svg_lane_y(lane) + (SVG_LANE_H - h) / 2, SVG_MARK_W, h,
               families[family].color, e->seq, e->time_ns);
    xml_str(g->o->buf, lanes_name(g->lanes, lane));
    out_printf(g->o, ": %s ", kind_label(e->kind, buf));
    xml_str(g->o->buf, e->name ? e->name : "-");
    out_printf(g->o, " arg=%" PRId64 " arg2=%" PRId64 "</title></rect>\n",
               e->arg, e->arg2);
}

static void svg_legend(Svg *g)
{
    int y = svg_lanes_bottom(g) + 34;
    int x = 8;

    for (int f = 0; f < FAM_MAX; f++) {
        out_printf(g->o, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" "
                   "fill=\"%s\"/><text x=\"%d\" y=\"%d\">%s</text>\n", x,
                   y - 12, SVG_MARK_W, SVG_MARK_H - 4, families[f].color,
                   x + 10, y, families[f].legend);
        x += 20 + 8 * (int)strlen(families[f].legend);
    }
    y += 22;
    out_printf(g->o, "<rect x=\"8\" y=\"%d\" width=\"30\" height=\"12\" "
               "fill=\"%s\" fill-opacity=\"0.25\"/><text x=\"44\" y=\"%d\">"
               "blocked (block .. next event of the thread)</text>\n"
               "<rect x=\"400\" y=\"%d\" width=\"30\" height=\"12\" "
               "fill=\"%s\" fill-opacity=\"0.25\"/><text x=\"436\" y=\"%d\">"
               "in poll (poll-enter .. poll-exit)</text>\n", y - 10,
               families[FAM_SCHED].color, y, y - 10, families[FAM_POLL].color,
               y);
}

int export_svg(FILE *out, const SimEvent *ev, size_t n,
               const TraceInfo *info)
{
    Lanes lanes;
    Out o;
    Svg g = { .o = &o, .ev = ev, .lanes = &lanes };

    out_init(&o, out);
    lanes_init(&lanes, ev, n, info);
    g.shown = MIN(n, (size_t)EXPORT_SVG_EVENTS_MAX);
    g.width = MAX(svg_x(g.shown) + SVG_STEP_X + 20, SVG_MIN_W);
    g.height = svg_lanes_bottom(&g) + SVG_LEGEND_H + 20;
    svg_header(&g, info, n);
    svg_lanes(&g);
    svg_time_ticks(&g);
    svg_spans(&g);
    svg_seq_labels(&g);
    for (size_t i = 0; i < g.shown; i++) {
        svg_mark(&g, i);
        out_record_done(&o);
    }
    svg_legend(&g);
    out_printf(&o, "</svg>\n");
    lanes_fini(&lanes);
    return out_finish(&o);
}
