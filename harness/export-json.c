/*
 * harness/export-json.c — traces as JSON lines and as Chrome trace-event
 * JSON (Perfetto, chrome://tracing): one track per simulated thread.
 *
 * Method: see export-common.c — one pass over the events, integers only,
 * slices from the shared state machine.
 */
#include "export-internal.h"

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
