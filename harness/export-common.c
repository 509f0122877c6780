/*
 * harness/export-common.c — what the trace exporters share (JSON lines and
 * Chrome JSON in export-json.c, the SVG timeline in export-svg.c).
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
#include "export-internal.h"

/* ---- output: one buffer, first error sticks ----------------------------- */

void out_init(Out *o, FILE *file)
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
void out_record_done(Out *o)
{
    if (o->buf->len >= OUT_CHUNK) {
        out_drain(o);
    }
}

int out_finish(Out *o)
{
    out_drain(o);
    errno = 0;
    if (fflush(o->file) == EOF && !o->err) {
        o->err = errno ? errno : EIO;
    }
    g_string_free(o->buf, TRUE);
    return -o->err;
}

void out_printf(Out *o, const char *fmt, ...)
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
void json_str(GString *s, const char *str)
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
void xml_str(GString *s, const char *str)
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
void fmt_us(GString *s, int64_t ns)
{
    uint64_t mag = magnitude(ns);

    g_string_append_printf(s, "%s%" PRIu64 ".%03u", ns < 0 ? "-" : "",
                           mag / 1000, (unsigned)(mag % 1000));
}

/* Nanoseconds for people: 1500000 -> "1.5ms", exact, zeros trimmed. */
void fmt_human(GString *s, int64_t ns)
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

const ExportFamily families[FAM_MAX] = {
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
Family kind_family(uint32_t kind)
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
const char *kind_label(uint32_t kind, char buf[24])
{
    const char *name = sim_event_kind_name(kind);

    if (name && strcmp(name, "?") != 0) {
        return name;
    }
    snprintf(buf, 24, "kind-%" PRIu32, kind);
    return buf;
}

/* ---- lanes: one per thread --------------------------------------------- */

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

    return (x > y) - (x < y);
}

unsigned lanes_index(const Lanes *l, uint32_t id)
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
void lanes_init(Lanes *l, const SimEvent *ev, size_t n,
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

const char *lanes_name(const Lanes *l, unsigned lane)
{
    return l->names->pdata[lane];
}

void lanes_fini(Lanes *l)
{
    g_array_free(l->ids, TRUE);
    g_ptr_array_free(l->names, TRUE);
}

/* ---- slices: poll-enter..poll-exit, block..next event of the thread ----- */

LaneSpans *spans_new(unsigned lane_count)
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
SpanStep span_step(LaneSpans *ls, const SimEvent *ev, size_t i)
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
