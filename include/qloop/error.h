/*
 * qloop/error.h — QEMU-style error reporting (Error **errp, last argument).
 *
 * Operating errors (an eventfd that cannot be created, an fd limit) travel
 * back through Error **; programming errors abort at once.  The two sentinel
 * pointers error_abort and error_fatal behave as in QEMU: an error set through
 * &error_abort aborts, one set through &error_fatal prints and exits(1).
 */
#ifndef QLOOP_ERROR_H
#define QLOOP_ERROR_H

#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct Error Error;

extern Error *error_abort;
extern Error *error_fatal;

void error_setg_internal(Error **errp, const char *src, int line,
                         const char *func, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
void error_setg_errno_internal(Error **errp, const char *src, int line,
                               const char *func, int os_errno,
                               const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

#define error_setg(errp, ...) \
    error_setg_internal((errp), __FILE__, __LINE__, __func__, __VA_ARGS__)
#define error_setg_errno(errp, os_errno, ...) \
    error_setg_errno_internal((errp), __FILE__, __LINE__, __func__, \
                              (os_errno), __VA_ARGS__)

const char *error_get_pretty(const Error *err);
void error_free(Error *err);
void error_free_or_abort(Error **errp);
void error_propagate(Error **dst_errp, Error *local_err);
void error_report_err(Error *err);
void error_report(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#ifdef __cplusplus
}
#endif

#endif
