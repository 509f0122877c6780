/*
 * loop/host/coro-ucontext.c — the portable coroutine switch: POSIX
 * ucontext (glibc keeps it on every architecture it supports).
 */
#include "coro-arch.h"

const char coro_arch_name[] = "ucontext";

void coro_arch_init(CoroArch *ctx, void *stack, size_t size,
                    void (*entry)(void))
{
    getcontext(&ctx->uc);
    ctx->uc.uc_stack.ss_sp = stack;
    ctx->uc.uc_stack.ss_size = size;
    ctx->uc.uc_link = NULL;     /* entry never returns */
    makecontext(&ctx->uc, entry, 0);
}

void coro_arch_switch(CoroArch *from, CoroArch *to)
{
    swapcontext(&from->uc, &to->uc);
}
