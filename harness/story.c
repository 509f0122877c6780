/*
 * harness/story.c — print a trace as a story (see story.h).
 *
 * Method: one line per event: virtual time in seconds with ns precision,
 * the thread's name, then what happened in words.  Switches are shown as
 * "--> thread" lines so interleavings stand out.
 */
#include <inttypes.h>

#include "../loop/os.h"
#include "story.h"

static bool story_hidden(uint32_t kind)
{
    switch (kind) {
    case QOS_EV_BH_PUSH:
    case QOS_EV_BH_TAKE:
    case QOS_EV_BH_SLICE:
    case QOS_EV_TIMERS_RUN:
    case QOS_EV_TIMERS_DONE:
    case QOS_EV_FD_ROUND:
    case QOS_EV_FD_POLLED:
        return true;
    }
    return false;
}

static const char *thread_name(const char *const *names, unsigned count,
                               uint32_t id, char *buf, size_t len)
{
    if (id >= 1 && id <= count && names[id - 1]) {
        return names[id - 1];
    }
    g_snprintf(buf, len, id ? "thread%u" : "-", id);
    return buf;
}

void story_print(FILE *out, const SimEvent *ev, size_t n,
                 const char *const *thread_names, unsigned thread_count,
                 bool verbose)
{
    char tbuf[32], obuf[32];

    for (size_t i = 0; i < n; i++) {
        const SimEvent *e = &ev[i];
        const char *who = thread_name(thread_names, thread_count, e->thread,
                                      tbuf, sizeof(tbuf));

        if (!verbose && story_hidden(e->kind)) {
            continue;
        }
        fprintf(out, "%6" PRIu64 " %4" PRId64 ".%09" PRId64 "s  %-10s ",
                e->seq, e->time_ns / 1000000000, e->time_ns % 1000000000, who);
        switch (e->kind) {
        case SIM_EV_SWITCH:
            fprintf(out, "--> %s\n", thread_name(thread_names, thread_count,
                                                 (uint32_t)e->arg, obuf,
                                                 sizeof(obuf)));
            break;
        case SIM_EV_USER:
            fprintf(out, "op: %s\n", e->name ? e->name : "?");
            break;
        case SIM_EV_CLOCK:
            fprintf(out, "clock advances to %" PRId64 " ns\n", e->arg);
            break;
        case SIM_EV_FAULT:
            fprintf(out, "fault: %s\n", e->name ? e->name : "?");
            break;
        case QOS_EV_BH_RUN:
        case QOS_EV_BH_SCHEDULE:
        case QOS_EV_BH_DELETE:
        case QOS_EV_BH_CANCEL:
        case QOS_EV_BH_PUSH:
        case QOS_EV_BH_TAKE:
            fprintf(out, "%s %s\n", sim_event_kind_name(e->kind),
                    e->name ? e->name : "?");
            break;
        case QOS_EV_FD_CALL:
            fprintf(out, "fd %" PRId64 " %s handler\n", e->arg2,
                    e->name ? e->name : "?");
            break;
        case QOS_EV_FD_ADD:
        case QOS_EV_FD_REMOVE:
            fprintf(out, "%s fd %" PRId64 "\n", sim_event_kind_name(e->kind),
                    e->arg2);
            break;
        case QOS_EV_TIMER_ARM:
        case QOS_EV_TIMER_FIRE:
            fprintf(out, "%s clock%d/timer%u at %" PRId64 " ns\n",
                    sim_event_kind_name(e->kind), (int)((e->arg >> 32) & 15),
                    (unsigned)e->arg, e->arg2);
            break;
        case SIM_EV_MEMORY:
            /* Weak memory (sim/wmm.c): which store a load read, from
             * whose buffer, and when a buffered store became visible. */
            switch (e->arg) {
            case SIM_MEM_BUFFER:
                fprintf(out, "store buffered: %s (%s)\n",
                        e->name ? e->name : "?",
                        e->arg2 == 1 ? "until a fence or seam call, at most 4096 steps"
                        : e->arg2 == 2 ? "for one step"
                        : e->arg2 == 3 ? "for eight steps"
                        : "behind older stores");
                break;
            case SIM_MEM_FLUSH:
                fprintf(out, "store visible: %s (from %s's buffer)\n",
                        e->name ? e->name : "?",
                        thread_name(thread_names, thread_count,
                                    (uint32_t)e->arg2, obuf, sizeof(obuf)));
                break;
            case SIM_MEM_LOAD_OWN:
                fprintf(out, "%s: read its own buffered store\n",
                        e->name ? e->name : "?");
                break;
            case SIM_MEM_LOAD_STALE:
                fprintf(out, "%s: read memory, missing the store still "
                        "in %s's buffer\n", e->name ? e->name : "?",
                        thread_name(thread_names, thread_count,
                                    (uint32_t)e->arg2, obuf, sizeof(obuf)));
                break;
            case SIM_MEM_LOAD_OLDER: {
                /* c11 (sim/c11.c): writer in the low half, newer stores
                 * passed over in the high half. */
                uint32_t writer = (uint32_t)(e->arg2 & 0xffffffff);
                uint32_t newer = (uint32_t)((uint64_t)e->arg2 >> 32);

                if (writer == 0) {
                    /* A history's first entry: the value memory held
                     * when the model first saw the location (its
                     * initialisation, or a plain write since). */
                    fprintf(out, "%s: read an older value, its initial one "
                            "(or a plain write's) (%u newer store%s "
                            "not seen)\n", e->name ? e->name : "?", newer,
                            newer == 1 ? "" : "s");
                } else {
                    fprintf(out, "%s: read an older store, by %s (%u newer "
                            "store%s not seen)\n", e->name ? e->name : "?",
                            thread_name(thread_names, thread_count, writer,
                                        obuf, sizeof(obuf)),
                            newer, newer == 1 ? "" : "s");
                }
                break;
            }
            default:
                fprintf(out, "memory %s %" PRId64 " %" PRId64 "\n",
                        e->name ? e->name : "", e->arg, e->arg2);
            }
            break;
        case QOS_EV_POLL_ENTER:
            fprintf(out, "poll enter (timeout %" PRId64 " ns)\n", e->arg);
            break;
        case QOS_EV_POLL_EXIT:
            fprintf(out, "poll exit (%" PRId64 " ready)\n", e->arg);
            break;
        default:
            fprintf(out, "%s %s %" PRId64 " %" PRId64 "\n",
                    sim_event_kind_name(e->kind), e->name ? e->name : "",
                    e->arg, e->arg2);
        }
    }
}
