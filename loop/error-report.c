/*
 * loop/error-report.c — QEMU's qemu/error-report.h: one line per message
 * on stderr, with the same "qloop: " prefix as error_report().
 */
#include <stdarg.h>
#include <stdio.h>

#include "qemu-compat/qemu/error-report.h"

static void report_line(const char *kind, const char *fmt, va_list ap)
{
    fprintf(stderr, "qloop: %s", kind);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

void error_vreport(const char *fmt, va_list ap)
{
    report_line("", fmt, ap);
}

void warn_vreport(const char *fmt, va_list ap)
{
    report_line("warning: ", fmt, ap);
}

void info_vreport(const char *fmt, va_list ap)
{
    report_line("info: ", fmt, ap);
}

void warn_report(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    warn_vreport(fmt, ap);
    va_end(ap);
}

void info_report(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    info_vreport(fmt, ap);
    va_end(ap);
}

int error_vprintf(const char *fmt, va_list ap)
{
    return vfprintf(stderr, fmt, ap);
}

int error_printf(const char *fmt, ...)
{
    va_list ap;
    int ret;

    va_start(ap, fmt);
    ret = error_vprintf(fmt, ap);
    va_end(ap);
    return ret;
}
