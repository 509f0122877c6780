/*
 * harness/kvm/fuzz-vmm.c — a hostile guest against the VMM's own glue:
 * serial.c (console ring, marker matching, host input) and ioport.c (port
 * dispatch and the platform devices), with no KVM.
 *
 * Method: a Vm as `qloop-vm --no-kvm` builds it (no VM fd, the real main
 * loop), its console a pipe shrunk to one page.  The input is 4-byte
 * steps: port reads and writes of any size at the serial ports, the
 * platform ports (debug-exit, i8042, CMOS, POST) and anywhere else, with
 * lenient I/O on or off; bursts of console text (with and without the
 * run's marker, CR, long lines); host input; the console reader draining
 * the pipe or not; main-loop turns (the drain BH, POLLOUT).  A tap on the
 * UART's transmit callback records every byte the guest sent.  Oracles:
 *   - dispatch: an access answers iff a device handles it (that port,
 *     that direction) or I/O is lenient; the rest read as all ones of the
 *     access size; the 8250 reads a byte;
 *   - console: at the end, after the final flush, what came out of the
 *     pipe is the transmitted stream with exactly the dropped bytes left
 *     out (in order), and without drops the stream itself;
 *   - marker: marker_seen iff a transmitted line (CR dropped, cut at 159
 *     bytes, as serial.c keeps it) contains the marker; marker_line is the
 *     first such line;
 *   - host input: serial_input() takes at most the room in in_buf.
 * tests/kvm/test-vmm-glue.c runs seeded programs; fuzz/fuzz.mk builds the
 * coverage-guided target vmm-fuzz from the same file (entry point at the
 * end).  A failure aborts.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz-vmm.h"
#include "vmm.h"

#define CHECK(cond) do { \
    if (!(cond)) { \
        fprintf(stderr, "%s:%d: VMM glue invariant broken: %s\n", \
                __FILE__, __LINE__, #cond); \
        abort(); \
    } \
} while (0)

#define FV_STEP_BYTES 4
#define FV_TAP_MAX (1u << 20)           /* bytes the guest may transmit */
#define FV_LINE_KEEP 159                /* serial.c's line[160] */

typedef struct FuzzVmm {
    Vm *vm;
    void (*serial_tx)(void *, uint8_t);
    uint8_t *tap;                       /* every transmitted byte */
    size_t tap_len;
    int pipe_rd;
    GByteArray *out;                    /* what the pipe delivered */
    char line[FV_LINE_KEEP + 1];        /* reference line assembly */
    size_t line_len;
    bool marker_seen;
    char marker_line[160];
} FuzzVmm;

static FuzzVmm *fv_current;
static FuzzVmmReach fv_reach;

static void fv_tap(void *opaque, uint8_t byte)
{
    FuzzVmm *f = fv_current;

    CHECK(f->tap_len < FV_TAP_MAX);
    f->tap[f->tap_len++] = byte;
    f->serial_tx(opaque, byte);
}

static void fv_reference_line(FuzzVmm *f, uint8_t byte)
{
    const char *marker = f->vm->cfg.marker;

    if (byte == '\n') {
        f->line[f->line_len] = '\0';
        if (!f->marker_seen && *marker && strstr(f->line, marker)) {
            f->marker_seen = true;
            g_strlcpy(f->marker_line, f->line, sizeof(f->marker_line));
        }
        f->line_len = 0;
    } else if (byte != '\r' && f->line_len < FV_LINE_KEEP) {
        f->line[f->line_len++] = (char)byte;
    }
}

static void fv_drain_pipe(FuzzVmm *f)
{
    uint8_t buf[4096];
    ssize_t n;

    while ((n = read(f->pipe_rd, buf, sizeof(buf))) > 0) {
        g_byte_array_append(f->out, buf, (guint)n);
    }
}

static void fv_watchdog(void *opaque)
{
    (void)opaque;               /* armed by the marker BH, never waited for */
}

/* Whether a device handles this access (first claiming range wins). */
static bool fv_handled(Vm *vm, uint16_t port, bool out)
{
    for (int i = 0; i < vm->nr_ports; i++) {
        if (port >= vm->ports[i].base &&
            port - vm->ports[i].base < vm->ports[i].len) {
            return out ? vm->ports[i].write != NULL
                       : vm->ports[i].read != NULL;
        }
    }
    return false;
}

static void fv_port(FuzzVmm *f, const uint8_t *p)
{
    static const uint16_t ports[] = {
        0x3f8, 0x3f9, 0x3fa, 0x3fb, 0x3fc, 0x3fd, 0x3fe, 0x3ff,
        0x60, 0x64, 0x70, 0x71, 0x80, 0x3f7, 0x400, 0xffff,
    };
    Vm *vm = f->vm;
    uint16_t port = p[1] & 0x80 ? (uint16_t)(p[1] << 8 | p[2])
                                : ports[p[1] % 16];
    unsigned size = 1u << (p[0] >> 6 & 3) % 3;          /* 1, 2, 4 */
    bool out = p[0] & 0x20;
    uint32_t value = p[3];
    bool handled = fv_handled(vm, port, out), ok;

    if (port == DEBUG_EXIT_PORT || (port == 0x64 && (value & 0xff) == 0xfe)) {
        return;         /* stopping the run is ioport's job, not fuzzed */
    }
    ok = ioport_dispatch(vm, port, size, out, &value);
    if (handled) {
        CHECK(ok);                      /* the platform devices never refuse */
        CHECK(out || port < 0x3f8 || value <= 0xff);    /* 8250: a byte */
    } else {
        CHECK(ok == vm->cfg.lenient_io);
        fv_reach.unclaimed_ports++;
        if (ok && !out) {
            CHECK(value == (size == 4 ? 0xffffffffu
                                      : (1u << (size * 8)) - 1));
        }
    }
}

/* The guest prints: a burst of text through THR (DLAB permitting). */
static void fv_print(FuzzVmm *f, const uint8_t *p)
{
    static const char *const words[] = {
        "QLOOP-GUEST-OK", "QLOOP-GUEST", "OK", "\r", "\n", "\r\n",
        "0123456789abcdef0123456789abcdef", "x",
    };
    /* Now and then a flood: more than the ring holds. */
    unsigned reps = (p[1] % 24 + 1) * (p[3] % 16 == 0 ? 256 : 1);

    for (unsigned r = 0; r < reps; r++) {
        const char *w = words[(p[2] + r * p[3]) % 8];

        for (const char *c = w; *c; c++) {
            uint32_t v = (uint8_t)*c;

            CHECK(ioport_dispatch(f->vm, 0x3f8, 1, true, &v));
        }
    }
}

static void fv_step(FuzzVmm *f, const uint8_t *p)
{
    switch (p[0] & 7) {
    case 0: case 1:
        fv_port(f, p);
        break;
    case 2: case 3:
        fv_print(f, p);
        break;
    case 4: {                           /* host input: monitor, stdin */
        Serial *s = &f->vm->serial;
        size_t room, n = (size_t)p[1] << 4 | (p[2] & 15), got;
        uint8_t buf[4096];

        memset(buf, p[3], sizeof(buf));
        qemu_mutex_lock(&s->lock);
        room = sizeof(s->in_buf) - s->in_len;
        qemu_mutex_unlock(&s->lock);
        got = serial_input(s, buf, MIN(n, sizeof(buf)));
        CHECK(got == MIN(MIN(n, sizeof(buf)), room));
        break;
    }
    case 5:
        fv_drain_pipe(f);               /* the console reader reads */
        break;
    default:
        for (unsigned i = 0; i <= p[1] % 4; i++) {
            main_loop_wait(true);       /* drain BH, POLLOUT handler */
        }
        break;
    }
}

static void fv_check_console(FuzzVmm *f)
{
    uint64_t written, dropped;
    size_t j = 0;

    serial_console_stats(&f->vm->serial, &written, &dropped);
    CHECK(f->out->len == written);
    CHECK(written + dropped == f->tap_len);
    if (dropped == 0 && f->tap_len > 0) {       /* data is NULL when empty */
        CHECK(memcmp(f->out->data, f->tap, f->tap_len) == 0);
    }
    /* In order, with exactly the dropped bytes left out. */
    for (size_t i = 0; i < f->tap_len && j < f->out->len; i++) {
        j += f->tap[i] == f->out->data[j];
    }
    CHECK(j == f->out->len);
    for (size_t i = 0; i < f->tap_len; i++) {
        fv_reference_line(f, f->tap[i]);
    }
    CHECK(f->vm->result.marker_seen == f->marker_seen);
    fv_reach.runs++;
    fv_reach.runs_dropping += dropped > 0;
    fv_reach.runs_marker += f->marker_seen;
    fv_reach.bytes_dropped += dropped;
    fv_reach.bytes_written += written;
    if (f->marker_seen) {
        CHECK(strcmp(f->vm->result.marker_line, f->marker_line) == 0);
    }
}

static Vm *fv_vm_new(const uint8_t *data, size_t size, int pipe_wr)
{
    static char console[64];
    Vm *vm = g_new0(Vm, 1);
    Error *err = NULL;

    snprintf(console, sizeof(console), "/proc/self/fd/%d", pipe_wr);
    vm->cfg.no_kvm = true;
    vm->cfg.console_path = console;
    vm->cfg.marker = size && data[0] & 1 ? "QLOOP-GUEST-OK" : "OK";
    vm->cfg.lenient_io = size > 1 && data[1] & 1;
    vm->kvm_fd = vm->vm_fd = vm->signal_fd = -1;
    qemu_mutex_init(&vm->stop_lock);
    vm->start_ns = get_clock();
    vm->watchdog = timer_new_ms(QEMU_CLOCK_REALTIME, fv_watchdog, vm);
    platform_devices_init(vm);
    serial_init(vm, &err);
    CHECK(err == NULL);
    return vm;
}

void qloop_kvm_vmm_reach(FuzzVmmReach *out)
{
    *out = fv_reach;
}

int qloop_kvm_vmm_run(const uint8_t *data, size_t size)
{
    static bool loop_ready;
    FuzzVmm f = { .tap = g_malloc(FV_TAP_MAX), .out = g_byte_array_new() };
    int pipefd[2];

    if (!loop_ready) {
        qemu_init_main_loop(&error_fatal);
        loop_ready = true;
    }
    CHECK(pipe2(pipefd, O_CLOEXEC | O_NONBLOCK) == 0);
    CHECK(fcntl(pipefd[1], F_SETPIPE_SZ, 4096) >= 0);
    f.pipe_rd = pipefd[0];
    f.vm = fv_vm_new(data, size, pipefd[1]);
    close(pipefd[1]);                   /* serial.c has its own fd now */
    fv_current = &f;
    f.serial_tx = f.vm->serial.uart.tx;
    f.vm->serial.uart.tx = fv_tap;
    for (size_t off = 2; off + FV_STEP_BYTES <= size; off += FV_STEP_BYTES) {
        fv_step(&f, data + off);
    }
    /* The end of a run: the reader catches up, the final flush fits. */
    fv_drain_pipe(&f);
    CHECK(fcntl(f.pipe_rd, F_SETPIPE_SZ, 256 * 1024) >= 0);
    serial_flush(&f.vm->serial);
    fv_drain_pipe(&f);
    for (int i = 0; i < 4; i++) {
        main_loop_wait(true);           /* oneshot BHs that name the vm */
    }
    fv_check_console(&f);
    serial_close(&f.vm->serial);
    timer_free(f.vm->watchdog);
    qemu_mutex_destroy(&f.vm->serial.lock);
    qemu_mutex_destroy(&f.vm->stop_lock);
    close(f.pipe_rd);
    g_free(f.vm);
    g_free(f.tap);
    g_byte_array_unref(f.out);
    fv_current = NULL;
    return 0;
}

/* The libFuzzer (and AFL++ persistent-mode) entry point: fuzz/fuzz.mk links
 * this file as vmm-fuzz; test-vmm-glue calls qloop_kvm_vmm_run() itself. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return qloop_kvm_vmm_run(data, size);
}
