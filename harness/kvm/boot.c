/*
 * harness/kvm/boot.c — loading a flat test-guest image.
 *
 * Method: the image (objcopy -O binary of a guest linked at 1 MiB) is
 * copied to guest physical 0x100000 and entered at its first byte in
 * 32-bit protected mode with flat segments (vcpu_set_entry), the same
 * entry state as the Linux 32-bit boot protocol.  The guest loads its own
 * GDT and IDT; the stack pointer handed over is just below 640 KiB.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "vmm.h"

#define FLAT_LOAD_ADDR 0x100000
#define FLAT_STACK_TOP 0x9f000

bool boot_flat_image(Vm *vm, const char *path, Error **errp)
{
    g_autoptr(GError) gerr = NULL;
    g_autofree gchar *image = NULL;
    gsize len;
    void *dst;

    if (!g_file_get_contents(path, &image, &len, &gerr)) {
        error_setg(errp, "reading guest image: %s", gerr->message);
        return false;
    }
    dst = vm_gpa(vm, FLAT_LOAD_ADDR, len);
    if (!dst) {
        error_setg(errp, "guest image %s (%zu bytes) does not fit in RAM",
                   path, (size_t)len);
        return false;
    }
    memcpy(dst, image, len);
    vm->entry_rip = FLAT_LOAD_ADDR;
    vm->entry_rsp = FLAT_STACK_TOP;
    vm->entry_rsi = 0;
    return true;
}
