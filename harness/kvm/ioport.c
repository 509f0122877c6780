/*
 * harness/kvm/ioport.c — port I/O dispatch and the small platform devices.
 *
 * Method: devices register a port range with read/write callbacks, as in
 * kvmtool; a linear scan is fine for a dozen ranges.  The platform devices
 * here are the ones a guest uses to end a run: QEMU's isa-debug-exit at
 * 0x501 and the i8042 reset line (write 0xfe to 0x64); plus the POST port
 * and a minimal CMOS/RTC, which Linux touches early.  A port nobody
 * registered ends the run with an error unless lenient_io is set, in which
 * case it reads as all ones and ignores writes — what Linux expects from
 * absent ISA hardware while it probes.
 */
#include "vmm.h"

void ioport_register(Vm *vm, uint16_t base, uint16_t len, IoRead *read,
                     IoWrite *write, void *opaque, const char *name)
{
    g_assert(vm->nr_ports < VMM_MAX_IOPORTS);
    vm->ports[vm->nr_ports++] = (IoPortRange){
        .base = base, .len = len, .read = read, .write = write,
        .opaque = opaque, .name = name,
    };
}

bool ioport_dispatch(Vm *vm, uint16_t port, unsigned size, bool out,
                     uint32_t *value)
{
    for (int i = 0; i < vm->nr_ports; i++) {
        IoPortRange *r = &vm->ports[i];

        if (port < r->base || port - r->base >= r->len) {
            continue;
        }
        if (out) {
            return r->write ? r->write(vm, r->opaque, port, size, *value)
                            : vm->cfg.lenient_io;
        }
        if (r->read) {
            return r->read(vm, r->opaque, port, size, value);
        }
        break;
    }
    if (!vm->cfg.lenient_io) {
        return false;
    }
    *value = size == 4 ? 0xffffffffu : (1u << (size * 8)) - 1;
    return true;
}

static bool debug_exit_write(Vm *vm, void *opaque, uint16_t port,
                             unsigned size, uint32_t value)
{
    vm->result.guest_status = value & 0xff;
    vm_request_stop(vm, (value & 0xff) == 0 ? 0 : 1,
                    "guest wrote %u to the debug-exit port", value & 0xff);
    return true;
}

static bool i8042_read(Vm *vm, void *opaque, uint16_t port, unsigned size,
                       uint32_t *value)
{
    *value = 0;                 /* no data, input buffer empty */
    return true;
}

static bool i8042_write(Vm *vm, void *opaque, uint16_t port, unsigned size,
                        uint32_t value)
{
    /* 0xfe pulses the CPU reset line: Linux's reboot=k, and reboot=t's
     * fallback.  Other controller commands are accepted and ignored. */
    if (port == 0x64 && (value & 0xff) == 0xfe) {
        vm_request_stop(vm, 0, "guest reset through the i8042");
    }
    return true;
}

/*
 * A CMOS/RTC that is always between updates: Linux's mc146818 code polls
 * register A until UIP is clear, and an absent chip (all ones) has UIP
 * set forever.  Time reads as zero; index writes are remembered.
 */
static bool cmos_read(Vm *vm, void *opaque, uint16_t port, unsigned size,
                      uint32_t *value)
{
    uint8_t *index = opaque;

    if (port == 0x70) {
        *value = *index;
        return true;
    }
    switch (*index & 0x7f) {
    case 0x0a: *value = 0x26; break;    /* 32.768 kHz, 1024 Hz, UIP clear */
    case 0x0b: *value = 0x02; break;    /* 24-hour, BCD */
    case 0x0d: *value = 0x80; break;    /* battery good */
    default: *value = 0; break;
    }
    return true;
}

static bool cmos_write(Vm *vm, void *opaque, uint16_t port, unsigned size,
                       uint32_t value)
{
    if (port == 0x70) {
        *(uint8_t *)opaque = (uint8_t)value;
    }
    return true;
}

/* Port 0x80 is the POST-code port: Linux writes it as an I/O delay. */
static bool post_write(Vm *vm, void *opaque, uint16_t port, unsigned size,
                       uint32_t value)
{
    return true;
}

void platform_devices_init(Vm *vm)
{
    vm->result.guest_status = -1;
    ioport_register(vm, DEBUG_EXIT_PORT, 1, NULL, debug_exit_write, NULL,
                    "debug-exit");
    ioport_register(vm, 0x60, 1, i8042_read, i8042_write, NULL, "i8042");
    ioport_register(vm, 0x64, 1, i8042_read, i8042_write, NULL, "i8042");
    ioport_register(vm, 0x80, 1, NULL, post_write, NULL, "post");
    ioport_register(vm, 0x70, 2, cmos_read, cmos_write, &vm->cmos_index,
                    "cmos");
}
