/*
 * harness/export-svg.c — a trace as an SVG timeline picture: one lane per
 * thread, events in sequence order, time labels where the clock moves.
 *
 * Method: see export-common.c.
 */
#include "export-internal.h"

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
