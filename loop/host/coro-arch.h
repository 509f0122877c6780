/*
 * loop/host/coro-arch.h — the machine part of a coroutine switch.
 *
 * One implementation is linked per build: coro-x86_64.c (a dozen
 * instructions, no system call) or the portable coro-ucontext.c
 * (makecontext/swapcontext, which also saves the signal mask with a system
 * call per switch).  CMake picks; QLOOP_CORO_PORTABLE forces the portable
 * one.
 */
#ifndef QLOOP_HOST_CORO_ARCH_H
#define QLOOP_HOST_CORO_ARCH_H

#include <stddef.h>

#ifdef QLOOP_CORO_UCONTEXT
#include <ucontext.h>
typedef struct CoroArch {
    ucontext_t uc;
} CoroArch;
#else
typedef struct CoroArch {
    void *sp;                   /* saved stack pointer while switched out */
} CoroArch;
#endif

/* Lay out a fresh stack so the first switch to it calls entry(). */
void coro_arch_init(CoroArch *ctx, void *stack, size_t size,
                    void (*entry)(void));
/* Save the running context in from, continue in to. */
void coro_arch_switch(CoroArch *from, CoroArch *to);
/* Which implementation this is, for benchmarks and docs. */
extern const char coro_arch_name[];

#endif
