/*
 * harness/kvm/linux-boot.h — the Linux x86 boot protocol, as pure code.
 *
 * Builds the zero page (struct boot_params) for a bzImage and says where
 * each piece goes in guest memory; linux.c copies them into the VM.  No
 * KVM here, so tests/kvm/test-linux-boot.c checks the block built for the
 * real Debian bzImage field by field on any host.
 * Offsets are those of Documentation/arch/x86/boot.rst and zero-page.rst.
 */
#ifndef QLOOP_KVM_LINUX_BOOT_H
#define QLOOP_KVM_LINUX_BOOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LB_ZERO_PAGE_ADDR   0x10000u    /* boot_params; %esi at entry */
#define LB_CMDLINE_ADDR     0x20000u
#define LB_KERNEL_ADDR      0x100000u   /* protected-mode code, 1 MiB */
#define LB_GDT_ADDR         0x500u      /* __BOOT_CS 0x10, __BOOT_DS 0x18 */

/* Setup-header and zero-page offsets used here. */
#define LB_SETUP_SECTS      0x1f1
#define LB_VID_MODE         0x1fa
#define LB_BOOT_FLAG        0x1fe
#define LB_HEADER           0x202
#define LB_VERSION          0x206
#define LB_TYPE_OF_LOADER   0x210
#define LB_LOADFLAGS        0x211
#define LB_CODE32_START     0x214
#define LB_RAMDISK_IMAGE    0x218
#define LB_RAMDISK_SIZE     0x21c
#define LB_HEAP_END_PTR     0x224
#define LB_CMD_LINE_PTR     0x228
#define LB_INITRD_ADDR_MAX  0x22c
#define LB_KERNEL_ALIGNMENT 0x230
#define LB_RELOCATABLE      0x234
#define LB_XLOADFLAGS       0x236
#define LB_CMDLINE_SIZE     0x238
#define LB_HW_SUBARCH       0x23c
#define LB_INIT_SIZE        0x260
#define LB_E820_ENTRIES     0x1e8
#define LB_E820_TABLE       0x2d0
#define LB_E820_MAX         128
/* Protocol 2.06's header ends after cmdline_size: 0x202 + jump >= this. */
#define LB_HEADER_MIN_END   0x23c

#define LB_LOADED_HIGH      0x01
#define LB_CAN_USE_HEAP     0x80
#define LB_E820_RAM         1
#define LB_E820_RESERVED    2

typedef struct LinuxLayout {
    uint8_t zero_page[4096];
    size_t kernel_offset;       /* protected-mode code in the image */
    size_t kernel_size;
    uint32_t entry;             /* code32_start */
    uint32_t initrd_addr;       /* 0 without an initrd */
    uint16_t version;           /* boot protocol version */
} LinuxLayout;

/*
 * Lay out a bzImage in ram_bytes of guest RAM.  Returns NULL on success or
 * a static message naming what is wrong with the image or the sizes.
 */
const char *linux_boot_layout(const uint8_t *image, size_t image_len,
                              uint64_t ram_bytes, const char *cmdline,
                              uint64_t initrd_len, LinuxLayout *out);

static inline uint32_t lb_get32(const uint8_t *p, size_t off)
{
    return p[off] | p[off + 1] << 8 | p[off + 2] << 16 |
           (uint32_t)p[off + 3] << 24;
}
static inline uint16_t lb_get16(const uint8_t *p, size_t off)
{
    return (uint16_t)(p[off] | p[off + 1] << 8);
}

#endif
