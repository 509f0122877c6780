/*
 * loop/error.c — Error objects: a message, where it was raised, and errno.
 *
 * Method: error_setg() formats into a new Error and either stores it in
 * *errp, or — for the &error_abort / &error_fatal sentinels — reports and
 * aborts or exits at once, so a caller that cannot handle an error never
 * sees a half-initialized object.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "qloop/error.h"

struct Error {
    char *msg;
    const char *src;
    const char *func;
    int line;
};

Error *error_abort;
Error *error_fatal;

static void error_handle(Error **errp, Error *err)
{
    if (errp == &error_abort) {
        fprintf(stderr, "Unexpected error in %s() at %s:%d:\n%s\n",
                err->func, err->src, err->line, err->msg);
        abort();
    }
    if (errp == &error_fatal) {
        fprintf(stderr, "qloop: %s\n", err->msg);
        exit(1);
    }
    if (!errp) {
        error_free(err);
        return;
    }
    g_assert(*errp == NULL);
    *errp = err;
}

static void error_setv(Error **errp, const char *src, int line,
                       const char *func, const char *suffix,
                       const char *fmt, va_list ap)
{
    Error *err = g_new0(Error, 1);
    char *msg = g_strdup_vprintf(fmt, ap);

    if (suffix) {
        err->msg = g_strdup_printf("%s: %s", msg, suffix);
        g_free(msg);
    } else {
        err->msg = msg;
    }
    err->src = src;
    err->line = line;
    err->func = func;
    error_handle(errp, err);
}

void error_setg_internal(Error **errp, const char *src, int line,
                         const char *func, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    error_setv(errp, src, line, func, NULL, fmt, ap);
    va_end(ap);
}

void error_setg_errno_internal(Error **errp, const char *src, int line,
                               const char *func, int os_errno,
                               const char *fmt, ...)
{
    va_list ap;
    int saved_errno = errno;

    va_start(ap, fmt);
    error_setv(errp, src, line, func,
               os_errno != 0 ? strerror(os_errno) : NULL, fmt, ap);
    va_end(ap);
    errno = saved_errno;
}

const char *error_get_pretty(const Error *err)
{
    return err->msg;
}

void error_free(Error *err)
{
    if (err) {
        g_free(err->msg);
        g_free(err);
    }
}

void error_free_or_abort(Error **errp)
{
    g_assert(errp && *errp);
    error_free(*errp);
    *errp = NULL;
}

void error_propagate(Error **dst_errp, Error *local_err)
{
    if (!local_err) {
        return;
    }
    error_handle(dst_errp, local_err);
}

void error_report_err(Error *err)
{
    fprintf(stderr, "qloop: %s\n", err->msg);
    error_free(err);
}

void error_report(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    fputs("qloop: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}
