/*
 * loop/host/coro-x86_64.c — coroutine switch for x86-64 (System V ABI).
 *
 * Method: the caller of coro_arch_switch() has already saved every
 * caller-saved register (the ABI), so a switch saves only what a callee
 * must preserve — rbx, rbp, r12-r15, and the MXCSR/x87 control words —
 * on the running stack, stores the stack pointer, loads the other one and
 * restores the same frame from it.  A fresh stack is laid out as if it had
 * been switched out right before "returning" into entry().
 */
#include <stdint.h>

#include "coro-arch.h"

const char coro_arch_name[] = "x86_64";

void coro_arch_swap_sp(void **save_sp, void *load_sp);

__asm__(
    ".text\n"
    ".globl coro_arch_swap_sp\n"
    ".type coro_arch_swap_sp, @function\n"
    "coro_arch_swap_sp:\n"
    "    pushq %r15\n"
    "    pushq %r14\n"
    "    pushq %r13\n"
    "    pushq %r12\n"
    "    pushq %rbx\n"
    "    pushq %rbp\n"
    "    leaq -8(%rsp), %rsp\n"
    "    fnstcw 4(%rsp)\n"
    "    stmxcsr (%rsp)\n"
    "    movq %rsp, (%rdi)\n"
    "    movq %rsi, %rsp\n"
    "    fldcw 4(%rsp)\n"
    "    ldmxcsr (%rsp)\n"
    "    leaq 8(%rsp), %rsp\n"
    "    popq %rbp\n"
    "    popq %rbx\n"
    "    popq %r12\n"
    "    popq %r13\n"
    "    popq %r14\n"
    "    popq %r15\n"
    "    ret\n"
    ".size coro_arch_swap_sp, .-coro_arch_swap_sp\n"
    ".section .note.GNU-stack,\"\",@progbits\n"
    ".text\n");

void coro_arch_init(CoroArch *ctx, void *stack, size_t size,
                    void (*entry)(void))
{
    /* entry() must see rsp == 8 (mod 16), as right after a call. */
    uint64_t *sp = (uint64_t *)(((uintptr_t)stack + size) & ~(uintptr_t)15);

    *--sp = 0;                          /* entry's return address: none */
    *--sp = (uint64_t)(uintptr_t)entry; /* popped by the switch's ret */
    for (int reg = 0; reg < 6; reg++) {
        *--sp = 0;                      /* r15 r14 r13 r12 rbx rbp */
    }
    /* MXCSR 0x1f80 (all exceptions masked) and x87 control word 0x037f:
     * the values a new thread starts with. */
    *--sp = ((uint64_t)0x037f << 32) | 0x1f80;
    ctx->sp = sp;
}

void coro_arch_switch(CoroArch *from, CoroArch *to)
{
    coro_arch_swap_sp(&from->sp, to->sp);
}
