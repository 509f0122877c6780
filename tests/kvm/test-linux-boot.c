/*
 * tests/kvm/test-linux-boot.c — the zero page built for the real Debian
 * bzImage, field by field.
 *
 * Method: linux_boot_layout() on build/kvm-linux/vmlinuz (from
 * scripts/kvm-fetch-linux.sh, or $QLOOP_KVM_LINUX_DIR) with a 256 MiB
 * guest, a command line and the real initrd size; every field a boot
 * loader writes is checked against boot.rst, every field it copies against
 * the image.  Then malformed images must be refused with a message.
 * Without the download it skips (77) and says so.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "linux-boot.h"

static int failures;

#define EXPECT(cond) do { \
    if (!(cond)) { \
        fprintf(stderr, "%s:%d: FAIL %s\n", __FILE__, __LINE__, #cond); \
        failures++; \
    } \
} while (0)

static uint8_t *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    struct stat st;
    uint8_t *buf;

    if (!f || fstat(fileno(f), &st) < 0) {
        if (f) {
            fclose(f);
        }
        return NULL;
    }
    buf = malloc(st.st_size);
    *len = fread(buf, 1, st.st_size, f);
    fclose(f);
    return buf;
}

static void check_e820(const uint8_t *zp, uint64_t ram)
{
    static const struct { uint64_t addr, size; uint32_t type; } want[] = {
        { 0, 0x9fc00, LB_E820_RAM },
        { 0x9fc00, 0x400, LB_E820_RESERVED },
        { 0xf0000, 0x10000, LB_E820_RESERVED },
        { 0x100000, 0, LB_E820_RAM },           /* size: ram - 1 MiB */
    };

    EXPECT(zp[LB_E820_ENTRIES] == 4);
    for (int i = 0; i < 4; i++) {
        size_t off = LB_E820_TABLE + i * 20;
        uint64_t size = want[i].size ? want[i].size : ram - 0x100000;

        EXPECT(lb_get32(zp, off) == want[i].addr && lb_get32(zp, off + 4) == 0);
        EXPECT(lb_get32(zp, off + 8) == (uint32_t)size);
        EXPECT(lb_get32(zp, off + 16) == want[i].type);
    }
}

int main(void)
{
    const char *dir = getenv("QLOOP_KVM_LINUX_DIR");
    char kpath[512], ipath[512];
    const char *cmdline = "console=ttyS0 reboot=t panic=-1 quiet";
    const uint64_t ram = 256ull << 20;
    size_t klen, ilen = 0;
    uint8_t *k, *initrd;
    LinuxLayout *lay = malloc(sizeof(*lay));
    const uint8_t *zp = lay->zero_page;

    snprintf(kpath, sizeof(kpath), "%s/vmlinuz",
             dir ? dir : QLOOP_LINUX_DIR_DEFAULT);
    snprintf(ipath, sizeof(ipath), "%s/initrd.cpio",
             dir ? dir : QLOOP_LINUX_DIR_DEFAULT);
    k = slurp(kpath, &klen);
    if (!k) {
        printf("test-linux-boot: SKIP: %s not downloaded (run "
               "scripts/kvm-fetch-linux.sh)\n", kpath);
        free(lay);
        return 77;
    }
    initrd = slurp(ipath, &ilen);
    free(initrd);

    EXPECT(linux_boot_layout(k, klen, ram, cmdline, ilen, lay) == NULL);
    /* Copied from the image's setup header. */
    EXPECT(lb_get16(zp, LB_BOOT_FLAG) == 0xaa55);
    EXPECT(memcmp(zp + LB_HEADER, "HdrS", 4) == 0);
    EXPECT(lay->version >= 0x020c && lb_get16(zp, LB_VERSION) == lay->version);
    EXPECT(zp[LB_SETUP_SECTS] == k[LB_SETUP_SECTS]);
    EXPECT(lay->kernel_offset == (size_t)(k[LB_SETUP_SECTS] + 1) * 512);
    EXPECT(lay->kernel_size == klen - lay->kernel_offset);
    EXPECT(lb_get32(zp, LB_KERNEL_ALIGNMENT) ==
           lb_get32(k, LB_KERNEL_ALIGNMENT));
    EXPECT(zp[LB_RELOCATABLE] == 1);            /* Debian: relocatable */
    EXPECT(lb_get32(zp, LB_CMDLINE_SIZE) >= strlen(cmdline));
    /* Written by the boot loader. */
    EXPECT(zp[LB_TYPE_OF_LOADER] == 0xff);
    EXPECT(zp[LB_LOADFLAGS] & LB_LOADED_HIGH);
    EXPECT(!(zp[LB_LOADFLAGS] & LB_CAN_USE_HEAP));
    EXPECT(lb_get16(zp, LB_VID_MODE) == 0xffff);
    EXPECT(lb_get32(zp, LB_CMD_LINE_PTR) == LB_CMDLINE_ADDR);
    EXPECT(lb_get32(zp, LB_HW_SUBARCH) == 0);
    EXPECT(lay->entry == LB_KERNEL_ADDR);       /* code32_start */
    EXPECT(lb_get32(zp, LB_CODE32_START) == LB_KERNEL_ADDR);
    /* initrd: page aligned, below initrd_addr_max and RAM's end, above the
     * kernel's decompression footprint. */
    EXPECT(lb_get32(zp, LB_RAMDISK_SIZE) == ilen);
    EXPECT(lb_get32(zp, LB_RAMDISK_IMAGE) == lay->initrd_addr);
    EXPECT(ilen == 0 || (lay->initrd_addr & 0xfff) == 0);
    EXPECT(ilen == 0 || lay->initrd_addr + ilen <= ram);
    EXPECT(ilen == 0 || lay->initrd_addr + ilen - 1 <=
                        lb_get32(k, LB_INITRD_ADDR_MAX));
    EXPECT(ilen == 0 || lay->initrd_addr >= LB_KERNEL_ADDR + lay->kernel_size +
                        lb_get32(k, LB_INIT_SIZE));
    /* Fields before the header stay zero ("not provided"), sentinel too. */
    EXPECT(zp[0x1ef] == 0 && lb_get32(zp, 0x0c0) == 0);
    check_e820(zp, ram);
    printf("test-linux-boot: %s: protocol %u.%02u, setup_sects %u, kernel "
           "%zu bytes, init_size %u, initrd at %#x\n", kpath,
           lay->version >> 8, lay->version & 0xff, k[LB_SETUP_SECTS],
           lay->kernel_size, lb_get32(k, LB_INIT_SIZE), lay->initrd_addr);

    /* Refusals: too little RAM, a huge command line, a damaged header. */
    EXPECT(linux_boot_layout(k, klen, 16ull << 20, cmdline, ilen, lay));
    {
        char *huge = malloc(8192);

        memset(huge, 'x', 8191);
        huge[8191] = '\0';
        EXPECT(linux_boot_layout(k, klen, ram, huge, 0, lay));
        free(huge);
    }
    k[LB_HEADER] = 'X';
    EXPECT(linux_boot_layout(k, klen, ram, cmdline, 0, lay));
    EXPECT(linux_boot_layout(k, 100, ram, cmdline, 0, lay));
    free(k);
    free(lay);
    printf("test-linux-boot: %s\n", failures ? "FAILED" : "ok");
    return failures ? 1 : 0;
}
