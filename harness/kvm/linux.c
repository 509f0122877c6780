/*
 * harness/kvm/linux.c — booting a bzImage: linux-boot.c's layout into RAM.
 *
 * Method: 32-bit boot protocol.  The zero page, command line, kernel and
 * initrd go where linux_boot_layout() says; a GDT with __BOOT_CS (0x10)
 * and __BOOT_DS (0x18) at LB_GDT_ADDR (startup_32 reloads %ds from it);
 * entry at code32_start with %esi = zero page, interrupts off, paging off
 * (vcpu_set_entry).  The run then needs a host that executes Linux:
 * hardware KVM.  kvm_pvm stops on instructions its emulator lacks.
 */
#include <stdio.h>
#include <string.h>

#include "linux-boot.h"
#include "vmm.h"

static bool load_file(const char *path, gchar **data, gsize *len,
                      Error **errp)
{
    g_autoptr(GError) gerr = NULL;

    if (!g_file_get_contents(path, data, len, &gerr)) {
        error_setg(errp, "%s", gerr->message);
        return false;
    }
    return true;
}

bool boot_linux(Vm *vm, Error **errp)
{
    static const uint64_t gdt[4] = {
        0, 0, 0x00cf9a000000ffffull, 0x00cf92000000ffffull,
    };
    g_autofree gchar *kernel = NULL, *initrd = NULL;
    gsize kernel_len, initrd_len = 0;
    LinuxLayout *lay = g_new(LinuxLayout, 1);
    const char *cmdline = vm->cfg.cmdline ? vm->cfg.cmdline : "";
    const char *bad;

    if (!load_file(vm->cfg.kernel_path, &kernel, &kernel_len, errp) ||
        (vm->cfg.initrd_path &&
         !load_file(vm->cfg.initrd_path, &initrd, &initrd_len, errp))) {
        g_free(lay);
        return false;
    }
    bad = linux_boot_layout((const uint8_t *)kernel, kernel_len,
                            vm->ram_bytes, cmdline, initrd_len, lay);
    if (bad) {
        error_setg(errp, "%s: %s", vm->cfg.kernel_path, bad);
        g_free(lay);
        return false;
    }
    /* The layout checked every range against ram_bytes already. */
    memcpy(vm_gpa(vm, LB_ZERO_PAGE_ADDR, 4096), lay->zero_page, 4096);
    memcpy(vm_gpa(vm, LB_CMDLINE_ADDR, strlen(cmdline) + 1), cmdline,
           strlen(cmdline) + 1);
    memcpy(vm_gpa(vm, LB_KERNEL_ADDR, lay->kernel_size),
           kernel + lay->kernel_offset, lay->kernel_size);
    if (initrd_len) {
        memcpy(vm_gpa(vm, lay->initrd_addr, initrd_len), initrd, initrd_len);
    }
    memcpy(vm_gpa(vm, LB_GDT_ADDR, sizeof(gdt)), gdt, sizeof(gdt));
    vm->entry_rip = lay->entry;
    vm->entry_rsi = LB_ZERO_PAGE_ADDR;
    vm->entry_rsp = 0;
    vm->entry_gdt = LB_GDT_ADDR;
    vm->entry_gdt_limit = sizeof(gdt) - 1;
    fprintf(stderr, "qloop-vm: Linux boot protocol %u.%02u, kernel %zu bytes "
            "at %#x, entry %#x, initrd %zu bytes at %#x\n",
            lay->version >> 8, lay->version & 0xff, lay->kernel_size,
            LB_KERNEL_ADDR, lay->entry, (size_t)initrd_len, lay->initrd_addr);
    g_free(lay);
    return true;
}
