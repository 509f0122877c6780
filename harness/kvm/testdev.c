/*
 * harness/kvm/testdev.c — the doorbell device (doorbell.c) on KVM plumbing:
 * QEMU's virtio architecture in miniature.
 *
 * Method:
 *   guest writes DB_PORT_KICK  -> KVM_IOEVENTFD signals `kick` in the kernel
 *   iothread's aio_poll        -> testdev_kick(): doorbell_kick() reads ring
 *   each new request           -> thread_pool_submit_aio() from the iothread
 *   worker                     -> db_work(): db_compute()
 *   completion in the iothread -> doorbell_complete() -> event_notifier_set
 *   `irq` is a KVM_IRQFD       -> IRQ 5 edge on the in-kernel 8259/IOAPIC
 * Without ioeventfd the kick port traps to the vCPU thread, which
 * schedules the same handler on the iothread as a BH; without irqfd the
 * iothread pulses KVM_IRQ_LINE.  The model is guarded by one mutex (the
 * vCPU thread writes config ports, the iothread kicks and completes).
 */
#include <errno.h>
#include <linux/kvm.h>
#include <sys/ioctl.h>

#include "vmm.h"

typedef struct DbWork {
    TestDev *td;
    uint32_t slot, id, a, b;
} DbWork;

static void *testdev_map(void *opaque, uint64_t gpa, size_t len)
{
    TestDev *td = opaque;

    return vm_gpa(td->vm, gpa, len);
}

/* A thread-pool worker: the part that would be a disk read in QEMU. */
static int db_work(void *opaque)
{
    DbWork *w = opaque;

    return (int)db_compute(w->id, w->a, w->b);
}

/* Back in the iothread (the submitter's context). */
static void db_work_done(void *opaque, int ret)
{
    DbWork *w = opaque;
    TestDev *td = w->td;

    qemu_mutex_lock(&td->lock);
    td->last_complete_ns = get_clock();
    doorbell_complete(&td->db, w->slot, (uint32_t)ret);
    qemu_mutex_unlock(&td->lock);
    g_free(w);
}

static void testdev_submit(void *opaque, uint32_t slot, uint32_t id,
                           uint32_t a, uint32_t b)
{
    DbWork *w = g_new(DbWork, 1);

    *w = (DbWork){ .td = opaque, .slot = slot, .id = id, .a = a, .b = b };
    g_assert(in_aio_context_home_thread(w->td->iothread->ctx));
    thread_pool_submit_aio(db_work, w, db_work_done, w);
}

static void testdev_raise(void *opaque)
{
    TestDev *td = opaque;

    if (td->have_irqfd) {
        event_notifier_set(&td->irq);
    } else {
        vm_irq_line(td->vm, DB_IRQ, true);
        vm_irq_line(td->vm, DB_IRQ, false);
    }
}

static const DoorbellOps testdev_ops = {
    .map = testdev_map,
    .submit = testdev_submit,
    .raise = testdev_raise,
};

/* The iothread: the doorbell rang (once or many times, coalesced). */
static void testdev_kick_bh(void *opaque)
{
    TestDev *td = opaque;

    qemu_mutex_lock(&td->lock);
    td->kick_runs++;
    if (!td->first_kick_ns) {
        td->first_kick_ns = get_clock();
    }
    doorbell_kick(&td->db);
    qemu_mutex_unlock(&td->lock);
}

static void testdev_kick(EventNotifier *e)
{
    TestDev *td = container_of(e, TestDev, kick);

    if (event_notifier_test_and_clear(e)) {
        testdev_kick_bh(td);
    }
}

static bool testdev_io_read(Vm *vm, void *opaque, uint16_t port,
                            unsigned size, uint32_t *value)
{
    TestDev *td = opaque;

    qemu_mutex_lock(&td->lock);
    *value = doorbell_io_read(&td->db, port - DB_PORT_BASE);
    qemu_mutex_unlock(&td->lock);
    return true;
}

static bool testdev_io_write(Vm *vm, void *opaque, uint16_t port,
                             unsigned size, uint32_t value)
{
    TestDev *td = opaque;

    if (port - DB_PORT_BASE < 4) {
        /* Trapped kick (no ioeventfd): hand it to the iothread.  One
         * persistent BH: kicks before it runs merge into that run (the
         * handler takes every new request), so a stalled iothread costs
         * nothing per kick — a oneshot per kick would grow without bound. */
        __atomic_fetch_add(&td->kicks_trapped, 1, __ATOMIC_RELAXED);
        qemu_bh_schedule(td->kick_bh);
        return true;
    }
    qemu_mutex_lock(&td->lock);
    doorbell_io_write(&td->db, port - DB_PORT_BASE, value);
    qemu_mutex_unlock(&td->lock);
    return true;
}

static bool testdev_wire_ioeventfd(TestDev *td)
{
    struct kvm_ioeventfd io = {
        .addr = DB_PORT_KICK, .len = 4,
        .fd = event_notifier_get_fd(&td->kick),
        .flags = KVM_IOEVENTFD_FLAG_PIO,
    };

    return ioctl(td->vm->vm_fd, KVM_IOEVENTFD, &io) == 0;
}

static bool testdev_wire_irqfd(TestDev *td)
{
    struct kvm_irqfd irqfd = {
        .fd = (uint32_t)event_notifier_get_fd(&td->irq), .gsi = DB_IRQ,
    };

    return ioctl(td->vm->vm_fd, KVM_IRQFD, &irqfd) == 0;
}

bool testdev_init(Vm *vm, Error **errp)
{
    TestDev *td = &vm->testdev;

    td->vm = vm;
    td->iothread = &vm->iothread;
    qemu_mutex_init(&td->lock);
    doorbell_init(&td->db, &testdev_ops, td);
    td->kick_bh = aio_bh_new(td->iothread->ctx, testdev_kick_bh, td);
    if (event_notifier_init(&td->kick, 0) < 0 ||
        event_notifier_init(&td->irq, 0) < 0) {
        error_setg(errp, "creating the doorbell's eventfds");
        return false;
    }
    td->have_ioeventfd = vm->caps.ioeventfd && testdev_wire_ioeventfd(td);
    td->have_irqfd = vm->caps.irqfd && testdev_wire_irqfd(td);
    if (td->have_ioeventfd) {
        aio_set_event_notifier(td->iothread->ctx, &td->kick, testdev_kick,
                               NULL, NULL);
    }
    ioport_register(vm, DB_PORT_BASE, DB_PORT_LEN, testdev_io_read,
                    testdev_io_write, td, "doorbell");
    return true;
}

void testdev_kick_stats(Vm *vm, uint64_t *trapped, uint64_t *runs)
{
    TestDev *td = &vm->testdev;

    *trapped = __atomic_load_n(&td->kicks_trapped, __ATOMIC_RELAXED);
    qemu_mutex_lock(&td->lock);
    *runs = td->kick_runs;
    qemu_mutex_unlock(&td->lock);
}

void testdev_stats(Vm *vm, uint64_t *doorbells, uint64_t *completions)
{
    TestDev *td = &vm->testdev;

    qemu_mutex_lock(&td->lock);
    *doorbells = td->db.submitted;
    *completions = td->db.completed;
    qemu_mutex_unlock(&td->lock);
}

uint64_t testdev_errors(Vm *vm)
{
    TestDev *td = &vm->testdev;
    uint64_t errors;

    qemu_mutex_lock(&td->lock);
    errors = td->db.errors;
    qemu_mutex_unlock(&td->lock);
    return errors;
}

int64_t testdev_busy_ns(Vm *vm)
{
    TestDev *td = &vm->testdev;
    int64_t ns;

    qemu_mutex_lock(&td->lock);
    ns = td->first_kick_ns ? td->last_complete_ns - td->first_kick_ns : 0;
    qemu_mutex_unlock(&td->lock);
    return ns;
}
