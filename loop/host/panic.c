/*
 * loop/host/panic.c — a broken invariant: say where and what, then abort.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "../os.h"

void qos_panic(const char *file, int line, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "qloop: %s:%d: ", file, line);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    fflush(stderr);
    abort();
}
