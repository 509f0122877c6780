/*
 * harness/export-internal.h — what the three trace exporters share: the
 * output buffer, escapers, integer formatting, kind families, lanes (one
 * per thread) and the slice state machine.  Private to export-*.c.
 */
#ifndef QLOOP_HARNESS_EXPORT_INTERNAL_H
#define QLOOP_HARNESS_EXPORT_INTERNAL_H

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

#define OUT_CHUNK 65536

typedef struct Out {
    FILE *file;
    GString *buf;
    int err;                    /* first errno from stdio; then no writes */
} Out;

typedef enum {
    FAM_BH, FAM_FD, FAM_TIMER, FAM_POLL, FAM_SCHED, FAM_FAULT, FAM_USER,
    FAM_OTHER, FAM_MAX
} Family;

typedef struct Lanes {
    GArray *ids;                /* uint32_t thread ids, ascending, distinct */
    GPtrArray *names;           /* char *, parallel to ids */
} Lanes;

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

/* Per family: Chrome's "cat", the SVG legend's words and colour. */
typedef struct ExportFamily {
    const char *cat;
    const char *legend;
    const char *color;
} ExportFamily;
extern const ExportFamily families[FAM_MAX];

void out_init(Out *o, FILE *file);
void out_record_done(Out *o);
int out_finish(Out *o);
void json_str(GString *s, const char *str);
void xml_str(GString *s, const char *str);
void fmt_us(GString *s, int64_t ns);
void fmt_human(GString *s, int64_t ns);
Family kind_family(uint32_t kind);
const char *kind_label(uint32_t kind, char buf[24]);
unsigned lanes_index(const Lanes *l, uint32_t id);
void lanes_init(Lanes *l, const SimEvent *ev, size_t n,
                const TraceInfo *info);
const char *lanes_name(const Lanes *l, unsigned lane);
void lanes_fini(Lanes *l);
LaneSpans *spans_new(unsigned lane_count);
SpanStep span_step(LaneSpans *ls, const SimEvent *ev, size_t i);
void out_printf(Out *o, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

#endif
