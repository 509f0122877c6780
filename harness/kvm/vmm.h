/*
 * harness/kvm/vmm.h — qloop-vm: a small VMM whose main loop is qloop's.
 *
 * One file per concern: memory.c (guest RAM), vm.c (the VM and what the
 * host KVM can do), cpu.c (vCPU threads and the exit switch), ioport.c
 * (port dispatch and the small platform devices), serial.c (the 8250 on
 * KVM), testdev.c (doorbell: ioeventfd -> iothread -> thread pool ->
 * irqfd), iothread.c, monitor.c (the commands of the QMP-like monitor in
 * qmp-server.c and qmp-request.c), boot.c
 * (flat test-guest images), linux.c (loads what linux-boot.c lays out),
 * run.c (the main loop, signals, watchdog and the run's verdict), smoke.c
 * (host detection, child runs).  Pure models with no KVM: uart.c,
 * doorbell.c, linux-boot.c; fuzz-devices.c drives the first two.
 *
 * Threads: the main thread runs main_loop_wait(); each vCPU thread runs
 * KVM_RUN; one iothread runs aio_poll() on its own AioContext; thread-pool
 * workers run doorbell work.  vCPU threads reach the loops only through
 * BH scheduling, ioeventfd and irqfd.
 */
#ifndef QLOOP_KVM_VMM_H
#define QLOOP_KVM_VMM_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "qloop/qloop.h"
#include "console-ring.h"
#include "doorbell.h"
#include "uart.h"

#ifndef container_of
#define container_of(ptr, type, member) \
    ((type *)((char *)(ptr) - offsetof(type, member)))
#endif

#define VMM_MAX_VCPUS 4
#define VMM_MAX_IOPORTS 16

typedef struct Vm Vm;

/* What the run was asked to do (filled from the command line). */
typedef struct VmConfig {
    const char *guest_path;     /* flat test-guest image, or NULL */
    const char *kernel_path;    /* bzImage, or NULL */
    const char *initrd_path;
    const char *cmdline;
    uint64_t ram_bytes;
    const char *marker;         /* console line that means success */
    int64_t timeout_ms;         /* watchdog: marker deadline */
    const char *monitor_path;   /* Unix socket, or NULL */
    const char *console_path;   /* output file, or NULL for stdout */
    bool console_stdin;         /* feed stdin to the UART */
    bool lenient_io;            /* unknown ports read ~0 (Linux probes) */
    bool quiet;                 /* no guest console on stdout */
    bool no_kvm;                /* no /dev/kvm: fakecpu.c stands in */
} VmConfig;

/* How the run ended; qloop-smoke receives this from its child. */
typedef struct VmResult {
    int exit_code;              /* 0 pass, 1 guest/VMM error, 2 watchdog */
    int guest_status;           /* debug-exit value, -1 if none */
    bool marker_seen;
    int64_t marker_ns;          /* from VM creation to the marker line */
    int64_t run_ns;
    uint64_t doorbells, completions, exits;
    int64_t doorbell_ns;        /* first kick to last completion */
    uint64_t device_errors;     /* guest protocol errors the device saw */
    uint64_t console_dropped;   /* console bytes lost to a slow reader */
    char marker_line[160];
    char reason[768];
} VmResult;

typedef struct VmCaps {
    bool irqchip, pit, irqfd, ioeventfd, immediate_exit, cpuid;
} VmCaps;

typedef struct Vcpu {
    Vm *vm;
    int id, fd;
    struct kvm_run *run;
    QemuThread thread;
    bool started;               /* vcpu_start() ran (main thread) */
    pthread_t tid;              /* for the kick signal; set by the thread */
    uint64_t exits;             /* written by the vCPU thread only */
} Vcpu;

typedef bool IoRead(Vm *vm, void *opaque, uint16_t port, unsigned size,
                    uint32_t *value);
typedef bool IoWrite(Vm *vm, void *opaque, uint16_t port, unsigned size,
                     uint32_t value);

typedef struct IoPortRange {
    uint16_t base, len;
    IoRead *read;
    IoWrite *write;
    void *opaque;
    const char *name;
} IoPortRange;

typedef struct Serial {
    QemuMutex lock;             /* the UART: vCPU thread and main loop */
    Uart uart;
    Vm *vm;
    /*
     * Console output: the vCPU appends under lock and never writes the fd;
     * the main loop drains the ring with non-blocking writes outside the
     * lock.  A full ring drops bytes (counted): a console nobody reads
     * costs output, never a blocked vCPU.
     */
    int out_fd;                 /* -1 without console output */
    int out_flags_orig;         /* out_fd's flags to restore, or -1 */
    ConsoleRing out;            /* under lock (console-ring.h) */
    uint8_t out_buf[64 * 1024];
    bool out_waiting;           /* main loop: write handler installed */
    QEMUBH *out_bh;             /* main loop: drains the ring */
    char line[160];             /* current console line, for the marker */
    size_t line_len;
    uint8_t in_buf[4096];       /* host input waiting for FIFO room */
    size_t in_len;
    bool in_paused;             /* stdin handler removed: in_buf is full */
    int in_fd;                  /* -1 without console input */
} Serial;

typedef struct IOThread {
    QemuThread thread;
    AioContext *ctx;
    bool stopping;              /* written in the iothread by a BH */
} IOThread;

typedef struct TestDev {
    QemuMutex lock;             /* the model: vCPU thread and iothread */
    Doorbell db;
    Vm *vm;
    IOThread *iothread;
    EventNotifier kick;         /* ioeventfd on DB_PORT_KICK */
    EventNotifier irq;          /* irqfd on DB_IRQ */
    QEMUBH *kick_bh;            /* trapped kicks, merged: one pending run */
    uint64_t kicks_trapped;     /* atomic: trapped kick writes */
    uint64_t kick_runs;         /* under lock: kick handler runs */
    bool have_ioeventfd, have_irqfd;
    int64_t first_kick_ns, last_complete_ns;   /* under lock */
} TestDev;

struct Vm {
    VmConfig cfg;
    VmCaps caps;
    int kvm_fd, vm_fd;
    int vcpu_mmap_bytes;
    uint8_t *ram;
    uint64_t ram_bytes;
    int nr_vcpus;
    Vcpu vcpus[VMM_MAX_VCPUS];
    IoPortRange ports[VMM_MAX_IOPORTS];
    int nr_ports;
    uint8_t cmos_index;         /* ioport.c, vCPU thread only */
    Serial serial;
    TestDev testdev;
    IOThread iothread;
    struct QmpServer *monitor;  /* main thread only */
    QEMUTimer *watchdog;
    int signal_fd;
    int64_t start_ns;
    QEMUTimer *heartbeat;       /* main loop liveness, every 100 ms */
    uint64_t heartbeats;        /* main thread only */
    uint64_t loop_iterations;   /* main_loop_wait() calls, main thread */
    QemuThread fake_thread;     /* --no-kvm: fakecpu.c */
    bool fake_started;
    uint64_t fake_lines;        /* atomic: console lines the fake wrote */
    /* Entry state for the boot CPU, set by boot.c or linux.c. */
    uint64_t entry_rip, entry_rsi, entry_rsp;
    uint64_t entry_gdt;         /* 0: none (the guest loads its own) */
    uint16_t entry_gdt_limit;

    QemuMutex stop_lock;        /* guards result.reason/exit_code */
    bool stop_requested;        /* atomic: any thread sets, all read */
    VmResult result;
};

/* memory.c */
bool vm_memory_init(Vm *vm, uint64_t bytes, Error **errp);
void *vm_gpa(Vm *vm, uint64_t gpa, size_t len);

/* vm.c */
const char *vm_kvm_path(void);
bool vm_create(Vm *vm, Error **errp);
void vm_destroy(Vm *vm);
bool vm_irq_line(Vm *vm, int irq, bool level);

/* cpu.c */
bool vcpu_create(Vm *vm, int id, Error **errp);
bool vcpu_set_entry(Vcpu *cpu, Error **errp);
void vcpu_start(Vcpu *cpu);
void vcpu_kick(Vcpu *cpu);
void vcpu_join(Vcpu *cpu);
/* Registers as text; only while the vCPU thread is not in KVM_RUN. */
void vcpu_describe(Vcpu *cpu, char *buf, size_t len);

/* ioport.c */
void ioport_register(Vm *vm, uint16_t base, uint16_t len, IoRead *read,
                     IoWrite *write, void *opaque, const char *name);
bool ioport_dispatch(Vm *vm, uint16_t port, unsigned size, bool out,
                     uint32_t *value);
void platform_devices_init(Vm *vm);

/* serial.c */
void serial_init(Vm *vm, Error **errp);
/* Host input for the guest; returns how many bytes fit (the rest is lost). */
size_t serial_input(Serial *s, const uint8_t *buf, size_t len);
/* After the vCPUs stopped: write what is left, waiting at most
 * SERIAL_FINAL_FLUSH_MS for a slow console; then restore the fd. */
void serial_flush(Serial *s);
void serial_console_stats(Serial *s, uint64_t *written, uint64_t *dropped);
void serial_close(Serial *s);

/* iothread.c */
void iothread_start(IOThread *t, const char *name);
void iothread_stop(IOThread *t);

/* testdev.c */
bool testdev_init(Vm *vm, Error **errp);
void testdev_stats(Vm *vm, uint64_t *doorbells, uint64_t *completions);
int64_t testdev_busy_ns(Vm *vm);
/* Trapped kick writes, and kick-handler runs (<= trapped: merged). */
void testdev_kick_stats(Vm *vm, uint64_t *trapped, uint64_t *runs);
uint64_t testdev_errors(Vm *vm);

/* monitor.c */
bool monitor_init(Vm *vm, const char *path, Error **errp);
void monitor_close(Vm *vm);

/* fakecpu.c: --no-kvm, a host thread writing console lines and kicks
 * through ioport_dispatch() as a vCPU's port exits would. */
void fakecpu_start(Vm *vm);
void fakecpu_join(Vm *vm);

/* boot.c, linux.c */
bool boot_flat_image(Vm *vm, const char *path, Error **errp);
bool boot_linux(Vm *vm, Error **errp);

/* run.c */
void vm_request_stop(Vm *vm, int exit_code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
bool vm_stopping(Vm *vm);
void vm_marker_seen(Vm *vm, const char *line);
int vm_run(const VmConfig *cfg, VmResult *result);

#endif
