/*
 * harness/kvm/guest/entry.S — the test guest's entry and interrupt stubs.
 *
 * The VMM enters at 1 MiB in 32-bit protected mode with flat segments
 * (selectors 0x10/0x18); we load a GDT that matches, so interrupt delivery
 * can load CS, and switch to our own stack.  Stubs save all
 * general registers around a C handler; exceptions push their vector and
 * never return (the C handler reports and exits through debug-exit).
 */
        .code32
        .section .text.entry, "ax"
        .globl _start
_start:
        cli
        lgdt    gdt_desc
        ljmp    $0x10, $1f
1:      movw    $0x18, %ax
        movw    %ax, %ds
        movw    %ax, %es
        movw    %ax, %fs
        movw    %ax, %gs
        movw    %ax, %ss
        movl    $stack_top, %esp
        call    guest_main
2:      cli
        hlt
        jmp     2b

        .text
        .macro  irq_stub name, handler
        .globl  \name
\name:
        pushal
        cld
        call    \handler
        jmp     irq_return
        .endm

        /*
         * Return from an interrupt without iret: KVM's instruction
         * emulator implements iret only in real mode, and kvm_pvm emulates
         * the guest.  Same privilege, flat CS: rewrite the frame
         * [eip][cs][eflags] to [eflags][eip] and popfl; ret.  An interrupt
         * taken between popfl and ret nests harmlessly (the frame below is
         * intact), and the 8259 bounds how often that can happen.
         */
irq_return:
        movl    32(%esp), %eax          /* eip, above the pushal frame */
        movl    40(%esp), %ebx          /* eflags */
        movl    %eax, 40(%esp)
        movl    %ebx, 36(%esp)
        popal
        addl    $4, %esp
        popfl
        ret

        irq_stub isr_uart, uart_isr
        irq_stub isr_doorbell, doorbell_isr
        irq_stub isr_other_irq, other_irq_isr

        /* Exceptions: push the vector, hand the frame to C, never return. */
        .macro  exc_stub vec
        .globl  exc_\vec
exc_\vec:
        pushl   $\vec
        jmp     exc_common
        .endm
        .irp    v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20
        exc_stub \v
        .endr
exc_common:
        pushl   %esp
        call    exception_isr
3:      cli
        hlt
        jmp     3b

        .section .rodata
        .globl  exc_table
exc_table:
        .irp    v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20
        .long   exc_\v
        .endr

        .data
        .balign 8
gdt:
        .quad   0
        .quad   0
        .quad   0x00cf9a000000ffff      /* 0x10: code, flat, 32-bit */
        .quad   0x00cf92000000ffff      /* 0x18: data, flat, 32-bit */
gdt_end:
gdt_desc:
        .word   gdt_end - gdt - 1
        .long   gdt

        .bss
        .balign 16
        .space  16384
stack_top:
        .section .note.GNU-stack, "", @progbits
