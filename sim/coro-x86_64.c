/*
 * sim/coro-x86_64.c — the coroutine switch for x86-64 (System V ABI).
 *
 * Method: a switch pushes the callee-saved registers (rbp, rbx, r12-r15)
 * and the SSE/x87 control words on the current stack, stores the stack
 * pointer, loads the other one and pops the same frame — about a dozen
 * instructions and no system call (swapcontext() would save the signal
 * mask with a syscall on every switch).  A fresh stack is laid out as if
 * it had been switched out just before calling the entry trampoline.
 */
#include <stdint.h>
#include <string.h>

#include "coro.h"

__asm__(
    ".text\n"
    ".globl sim_coro_switch\n"
    ".type sim_coro_switch, @function\n"
    "sim_coro_switch:\n"
    "    pushq %rbp\n"
    "    pushq %rbx\n"
    "    pushq %r12\n"
    "    pushq %r13\n"
    "    pushq %r14\n"
    "    pushq %r15\n"
    "    subq $8, %rsp\n"
    "    stmxcsr (%rsp)\n"
    "    fnstcw 4(%rsp)\n"
    "    movq %rsp, (%rdi)\n"
    "    movq %rsi, %rsp\n"
    "    ldmxcsr (%rsp)\n"
    "    fldcw 4(%rsp)\n"
    "    addq $8, %rsp\n"
    "    popq %r15\n"
    "    popq %r14\n"
    "    popq %r13\n"
    "    popq %r12\n"
    "    popq %rbx\n"
    "    popq %rbp\n"
    "    ret\n"
    ".size sim_coro_switch, .-sim_coro_switch\n"
    ".section .note.GNU-stack,\"\",@progbits\n"
    ".text\n");

void *sim_coro_init_stack(void *stack, size_t size, void (*entry)(void))
{
    uintptr_t top = ((uintptr_t)stack + size) & ~(uintptr_t)15;
    uint64_t *sp = (uint64_t *)top;

    *--sp = 0;                      /* entry's own "return address" */
    *--sp = (uint64_t)(uintptr_t)entry;
    for (int i = 0; i < 6; i++) {
        *--sp = 0;                  /* rbp rbx r12 r13 r14 r15 */
    }
    *--sp = 0x037f00001f80ULL;      /* mxcsr 0x1f80, x87 cw 0x037f */
    return sp;
}
