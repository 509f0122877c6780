/* qemu/error-report.h (qloop compatibility): messages to stderr, one line
 * each, prefixed "warning: " / "info: " as QEMU does. */
#ifndef QLOOP_COMPAT_ERROR_REPORT_H
#define QLOOP_COMPAT_ERROR_REPORT_H

#include <stdarg.h>
#include <stdbool.h>

#include "qloop/error.h"

void error_vreport(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));
void warn_vreport(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));
void info_vreport(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));
void warn_report(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void info_report(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Print without a prefix or newline (QEMU: to the monitor or stderr). */
int error_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int error_vprintf(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));

/* Report once per call site; true if this call reported. */
#define error_report_once(fmt, ...) ({ \
    static bool qloop_reported_; \
    bool qloop_first_ = !__atomic_exchange_n(&qloop_reported_, true, \
                                             __ATOMIC_RELAXED); \
    if (qloop_first_) { error_report(fmt, ##__VA_ARGS__); } \
    qloop_first_; })
#define warn_report_once(fmt, ...) ({ \
    static bool qloop_reported_; \
    bool qloop_first_ = !__atomic_exchange_n(&qloop_reported_, true, \
                                             __ATOMIC_RELAXED); \
    if (qloop_first_) { warn_report(fmt, ##__VA_ARGS__); } \
    qloop_first_; })

#endif
