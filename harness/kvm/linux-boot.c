/*
 * harness/kvm/linux-boot.c — zero page, e820 map, command line and initrd
 * placement for the 32-bit Linux boot protocol (boot.rst, "32-bit boot
 * protocol").
 *
 * Method: copy the setup header from the image into a zeroed boot_params
 * (the kernel reads the rest of the zero page as "not provided"), then
 * fill in what a boot loader owns: loader type, LOADED_HIGH, the command
 * line pointer, the initrd (as high as initrd_addr_max and RAM allow,
 * page aligned, as GRUB does) and an e820 map with the legacy holes (EBDA
 * at 0x9fc00, the BIOS area from 0xf0000).  Every size read from the image
 * is checked against the image, so a truncated or foreign file is an
 * error message, never an out-of-bounds read.
 */
#include <string.h>

#include "linux-boot.h"

static void put16(uint8_t *p, size_t off, uint16_t v)
{
    p[off] = (uint8_t)v;
    p[off + 1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, size_t off, uint32_t v)
{
    put16(p, off, (uint16_t)v);
    put16(p, off + 2, (uint16_t)(v >> 16));
}

static void e820_add(uint8_t *zp, uint64_t addr, uint64_t size, uint32_t type)
{
    uint8_t n = zp[LB_E820_ENTRIES];
    size_t off = LB_E820_TABLE + (size_t)n * 20;

    put32(zp, off, (uint32_t)addr);
    put32(zp, off + 4, (uint32_t)(addr >> 32));
    put32(zp, off + 8, (uint32_t)size);
    put32(zp, off + 12, (uint32_t)(size >> 32));
    put32(zp, off + 16, type);
    zp[LB_E820_ENTRIES] = n + 1;
}

const char *linux_boot_layout(const uint8_t *image, size_t image_len,
                              uint64_t ram_bytes, const char *cmdline,
                              uint64_t initrd_len, LinuxLayout *out)
{
    uint8_t *zp = out->zero_page;
    size_t setup_sects, hdr_end;
    uint32_t initrd_max, initrd_top;

    memset(out, 0, sizeof(*out));
    if (image_len < 0x1000 || lb_get16(image, LB_BOOT_FLAG) != 0xaa55 ||
        memcmp(image + LB_HEADER, "HdrS", 4) != 0) {
        return "not a bzImage (no 0xAA55 boot flag or HdrS header)";
    }
    out->version = lb_get16(image, LB_VERSION);
    if (out->version < 0x0206) {
        return "boot protocol older than 2.06";
    }
    setup_sects = image[LB_SETUP_SECTS] ? image[LB_SETUP_SECTS] : 4;
    out->kernel_offset = (setup_sects + 1) * 512;
    hdr_end = 0x202 + image[0x201];     /* the jump at 0x200 skips it */
    if (out->kernel_offset >= image_len || hdr_end > 0x400) {
        return "setup header sizes point outside the image";
    }
    if (hdr_end < LB_HEADER_MIN_END) {
        /* Shorter than protocol 2.06's fields: code32_start and the
         * rest would come from outside the header (entry 0). */
        return "setup header shorter than boot protocol 2.06's";
    }
    out->kernel_size = image_len - out->kernel_offset;
    if (LB_KERNEL_ADDR + (uint64_t)out->kernel_size +
        lb_get32(image, LB_INIT_SIZE) > ram_bytes) {
        return "RAM too small for the kernel and its decompression";
    }
    /* cmdline_size excludes the NUL; compared as is, since adding 1
     * wrapped a limit of 0xffffffff to 0 and refused every line. */
    if (strlen(cmdline) > lb_get32(image, LB_CMDLINE_SIZE) ||
        strlen(cmdline) >= 4096) {
        return "command line longer than the kernel accepts";
    }

    memcpy(zp + LB_SETUP_SECTS, image + LB_SETUP_SECTS,
           hdr_end - LB_SETUP_SECTS);
    zp[LB_TYPE_OF_LOADER] = 0xff;                   /* undefined loader */
    zp[LB_LOADFLAGS] |= LB_LOADED_HIGH;
    zp[LB_LOADFLAGS] &= (uint8_t)~LB_CAN_USE_HEAP;  /* no real-mode code */
    put16(zp, LB_VID_MODE, 0xffff);                 /* "normal" */
    put32(zp, LB_CMD_LINE_PTR, LB_CMDLINE_ADDR);
    put32(zp, LB_HW_SUBARCH, 0);                    /* a PC */
    out->entry = lb_get32(zp, LB_CODE32_START);
    /* The loader owns the ramdisk fields: without an initrd they must be
     * zero, not whatever the image's header carried. */
    put32(zp, LB_RAMDISK_IMAGE, 0);
    put32(zp, LB_RAMDISK_SIZE, 0);

    if (initrd_len) {
        initrd_max = lb_get32(image, LB_INITRD_ADDR_MAX);
        initrd_top = ram_bytes - 1 < initrd_max ? (uint32_t)(ram_bytes - 1)
                                                : initrd_max;
        if (initrd_len > initrd_top ||
            ((initrd_top + 1 - initrd_len) & ~0xfffu) <
                LB_KERNEL_ADDR + out->kernel_size +
                lb_get32(image, LB_INIT_SIZE)) {
            return "initrd does not fit between the kernel and RAM's end";
        }
        out->initrd_addr = (initrd_top + 1 - (uint32_t)initrd_len) & ~0xfffu;
        put32(zp, LB_RAMDISK_IMAGE, out->initrd_addr);
        put32(zp, LB_RAMDISK_SIZE, (uint32_t)initrd_len);
    }

    e820_add(zp, 0, 0x9fc00, LB_E820_RAM);
    e820_add(zp, 0x9fc00, 0x400, LB_E820_RESERVED);    /* EBDA */
    e820_add(zp, 0xf0000, 0x10000, LB_E820_RESERVED);  /* BIOS */
    e820_add(zp, LB_KERNEL_ADDR, ram_bytes - LB_KERNEL_ADDR, LB_E820_RAM);
    return NULL;
}
