/*
 * qemu/osdep.h (qloop compatibility) — what QEMU code expects to have after
 * its first include: the C library, glib, and QEMU's small macros.
 */
#ifndef QLOOP_COMPAT_OSDEP_H
#define QLOOP_COMPAT_OSDEP_H

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include <glib.h>

#include "qloop/error.h"
#include "qemu/atomic.h"

/* QEMU's configure defines CONFIG_LINUX on Linux hosts; code written for
 * QEMU uses it to pick Linux-only paths (futexes, eventfd). */
#if defined(__linux__) && !defined(CONFIG_LINUX)
#define CONFIG_LINUX 1
#endif

#ifndef MIN
#define MIN(a, b) (((a) < (b)) ? (a) : (b))
#endif
#ifndef MAX
#define MAX(a, b) (((a) > (b)) ? (a) : (b))
#endif
#ifndef ARRAY_SIZE
#define ARRAY_SIZE(x) ((sizeof(x) / sizeof((x)[0])))
#endif
#ifndef container_of
#define container_of(ptr, type, member) \
    ((type *)((char *)(ptr) - offsetof(type, member)))
#endif
#ifndef stringify
#define qloop_tostring(s) #s
#define stringify(s) qloop_tostring(s)
#endif
#ifndef QEMU_NORETURN
#define QEMU_NORETURN __attribute__((noreturn))
#endif
#ifndef G_NORETURN
#define G_NORETURN __attribute__((noreturn))
#endif
#ifndef QEMU_BUILD_BUG_ON
#define QEMU_BUILD_BUG_ON(x) _Static_assert(!(x), "not expecting: " #x)
#endif
#ifndef QEMU_ALIGNED
#define QEMU_ALIGNED(x) __attribute__((aligned(x)))
#endif
#ifndef QEMU_PACKED
#define QEMU_PACKED __attribute__((packed))
#endif
#ifndef ROUND_UP
#define ROUND_UP(n, d) ((((n) + (d) - 1) / (d)) * (d))
#endif
#ifndef DIV_ROUND_UP
#define DIV_ROUND_UP(n, d) (((n) + (d) - 1) / (d))
#endif
#ifndef likely
#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)
#endif

typedef struct AioContext AioContext;
typedef struct QEMUBH QEMUBH;
typedef struct QEMUTimer QEMUTimer;
typedef struct EventNotifier EventNotifier;

#endif
