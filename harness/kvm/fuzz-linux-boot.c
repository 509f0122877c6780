/*
 * harness/kvm/fuzz-linux-boot.c — the Linux loader over hostile bzImages.
 *
 * Method: the input picks an image length, a RAM size (past 4 GiB too),
 * an initrd size (past 4 GiB too), a command-line length, and then
 * patches bytes of a plausible setup header (boot flag, "HdrS", protocol
 * 2.15, setup_sects, the header-length jump byte, init_size,
 * cmdline_size, initrd_addr_max, code32_start ...).  linux_boot_layout()
 * runs on the result and is compared with a second, independent reading
 * of boot.rst written here with 64-bit arithmetic throughout
 * (lb_spec_layout): the two must agree on accept or refuse, and on
 * acceptance on the kernel's place, the initrd's address (page aligned,
 * as high as RAM and initrd_addr_max allow, above the kernel's
 * decompression area) and the zero page's loader-owned fields.  Every
 * read stays inside the image (ASan checks the rest).  libFuzzer reaches
 * it through the devices target (fuzz-devices.c: first byte 0xb2).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz-linux-boot.h"
#include "linux-boot.h"

#define FLB_IMAGE_MAX 0x4000u
#define FLB_CMDLINE_MAX 5000u

#define CHECK(cond) do { \
    if (!(cond)) { \
        fprintf(stderr, "%s:%d: loader disagrees with boot.rst: %s\n", \
                __FILE__, __LINE__, #cond); \
        abort(); \
    } \
} while (0)

typedef struct LbSpec {
    bool ok;
    uint64_t kernel_offset, kernel_size, initrd_addr;
} LbSpec;

/* boot.rst as a boot loader reads it, in 64-bit arithmetic. */
static LbSpec lb_spec_layout(const uint8_t *img, size_t len, uint64_t ram,
                             uint64_t cmdline_len, uint64_t initrd_len)
{
    LbSpec s = { .ok = false };
    uint64_t setup, kend, top;

    if (len < 0x1000 || lb_get16(img, LB_BOOT_FLAG) != 0xaa55 ||
        memcmp(img + LB_HEADER, "HdrS", 4) != 0 ||
        lb_get16(img, LB_VERSION) < 0x0206) {
        return s;
    }
    setup = img[LB_SETUP_SECTS] ? img[LB_SETUP_SECTS] : 4;
    s.kernel_offset = (setup + 1) * 512;
    if (s.kernel_offset >= len || 0x202u + img[0x201] > 0x400u ||
        0x202u + img[0x201] < 0x23cu) {
        return s;
    }
    s.kernel_size = len - s.kernel_offset;
    kend = (uint64_t)LB_KERNEL_ADDR + s.kernel_size +
           lb_get32(img, LB_INIT_SIZE);
    if (kend > ram || cmdline_len > lb_get32(img, LB_CMDLINE_SIZE) ||
        cmdline_len >= 4096) {
        return s;
    }
    if (initrd_len) {
        top = (uint64_t)lb_get32(img, LB_INITRD_ADDR_MAX) + 1;
        top = top < ram ? top : ram;            /* exclusive end */
        if (initrd_len >= top) {
            return s;
        }
        s.initrd_addr = (top - initrd_len) & ~(uint64_t)0xfff;
        if (s.initrd_addr < kend) {
            return s;
        }
    }
    s.ok = true;
    return s;
}

static void flb_check_zero_page(const LinuxLayout *lay, const uint8_t *img,
                                uint64_t ram, uint64_t initrd_len)
{
    const uint8_t *zp = lay->zero_page;
    size_t last = LB_E820_TABLE + 3 * 20;

    CHECK(zp[LB_TYPE_OF_LOADER] == 0xff);
    CHECK(zp[LB_LOADFLAGS] & LB_LOADED_HIGH);
    CHECK(!(zp[LB_LOADFLAGS] & LB_CAN_USE_HEAP));
    CHECK(lb_get16(zp, LB_VID_MODE) == 0xffff);
    CHECK(lb_get32(zp, LB_CMD_LINE_PTR) == LB_CMDLINE_ADDR);
    CHECK(lay->entry == lb_get32(img, LB_CODE32_START));
    CHECK(lb_get32(zp, LB_RAMDISK_IMAGE) == lay->initrd_addr);
    CHECK(lb_get32(zp, LB_RAMDISK_SIZE) == (uint32_t)initrd_len);
    CHECK(zp[LB_E820_ENTRIES] == 4);
    CHECK(lb_get32(zp, last) == LB_KERNEL_ADDR);
    CHECK(lb_get32(zp, last + 8) +
          ((uint64_t)lb_get32(zp, last + 12) << 32) ==
          ram - LB_KERNEL_ADDR);
}

static uint32_t flb_get32(const uint8_t *p)
{
    return p[0] | p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void flb_base_header(uint8_t *img)
{
    memset(img, 0, FLB_IMAGE_MAX);
    img[LB_SETUP_SECTS] = 4;
    img[0x1fe] = 0x55;
    img[0x1ff] = 0xaa;
    img[0x200] = 0xeb;                          /* jmp over the header */
    img[0x201] = 0x6a;
    memcpy(img + LB_HEADER, "HdrS", 4);
    img[LB_VERSION] = 0x0f;                     /* 2.15 */
    img[LB_VERSION + 1] = 0x02;
    img[LB_CODE32_START + 2] = 0x10;            /* 0x100000 */
    img[LB_INIT_SIZE + 2] = 0x10;               /* 1 MiB */
    img[LB_CMDLINE_SIZE] = 0xff;                /* 2047 */
    img[LB_CMDLINE_SIZE + 1] = 0x07;
    memcpy(img + LB_INITRD_ADDR_MAX, "\xff\xff\xff\x37", 4);
}

int qloop_kvm_linux_boot_run(const uint8_t *data, size_t size)
{
    static uint8_t img[FLB_IMAGE_MAX];
    static char cmdline[FLB_CMDLINE_MAX + 1];
    static LinuxLayout lay;
    size_t len, cmd_len;
    uint64_t ram, initrd_len;
    const char *err;
    LbSpec spec;

    if (size < 16) {
        return 0;
    }
    flb_base_header(img);
    len = (data[0] | data[1] << 8) % (FLB_IMAGE_MAX + 1);
    ram = (uint64_t)flb_get32(data + 2) << (data[14] % 13);
    initrd_len = data[15] & 1 ? 0 : flb_get32(data + 6) |
                 (uint64_t)(data[15] >> 6) << 32;
    cmd_len = (data[10] | data[11] << 8) % (FLB_CMDLINE_MAX + 1);
    memset(cmdline, 'a', cmd_len);
    cmdline[cmd_len] = '\0';
    /* Then (offset, value) patches over the setup header's bytes. */
    for (size_t i = 16; i + 1 < size; i += 2) {
        img[0x1f1 + data[i] % 0x80] = data[i + 1];
    }
    err = linux_boot_layout(img, len, ram, cmdline, initrd_len, &lay);
    spec = lb_spec_layout(img, len, ram, cmd_len, initrd_len);
    if (spec.ok != (err == NULL)) {
        fprintf(stderr, "image %zu bytes, RAM %#llx, initrd %#llx, command "
                "line %zu: loader says \"%s\", boot.rst says %s\n", len,
                (unsigned long long)ram, (unsigned long long)initrd_len,
                cmd_len, err ? err : "ok", spec.ok ? "ok" : "refuse");
    }
    CHECK(spec.ok == (err == NULL));
    if (err) {
        return 0;
    }
    CHECK(lay.kernel_offset == spec.kernel_offset);
    CHECK(lay.kernel_size == spec.kernel_size);
    CHECK(lay.initrd_addr == spec.initrd_addr);
    CHECK(lay.kernel_offset + lay.kernel_size == len);
    flb_check_zero_page(&lay, img, ram, initrd_len);
    return 0;
}
