/*
 * tests/kvm/test-serial-stdin.c — serial.c's stdin pause: the room check
 * and the pause must be one critical section (no KVM).
 *
 * The race: the main loop's stdin handler finds in_buf full and pauses
 * stdin; the vCPU drains in_buf and, if it sees the pause, schedules the
 * resume.  Were check and pause two critical sections, a vCPU that drains
 * in_buf between them sees no pause, schedules nothing, and stdin then
 * stays paused for good with in_buf empty.
 *
 * Method: the test is linked with -Wl,--wrap=qemu_mutex_unlock, so it runs
 * code right after serial.c lets go of the serial lock.  It fills in_buf
 * through serial_input(), puts bytes on stdin (a pipe dup2'd onto fd 0),
 * arms the hook and turns the main loop: the stdin handler runs, finds no
 * room, and the first time it drops the lock the hook plays the guest —
 * it reads the UART's RBR until in_buf is under half full, as a vCPU would
 * on another thread in exactly that window.  Then the main loop turns a
 * few more times and the bytes left on stdin must have been read.  With
 * check and pause split the hook runs between them and stdin is never read
 * again: the test fails (docs/kvm.md says how this was shown).
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "vmm.h"

#define STDIN_BYTES 100u         /* waiting on stdin while in_buf is full */
#define COM1_RBR_PORT 0x3f8      /* the 8250 receive buffer (serial.c) */

void __real_qemu_mutex_unlock(QemuMutex *mutex);
void __wrap_qemu_mutex_unlock(QemuMutex *mutex);

static Serial *hook_serial;      /* armed: the next unlock of its lock */
static unsigned hook_runs;
static size_t hook_paused_seen;  /* in_paused when the hook ran */

static void fail(const char *what)
{
    fprintf(stderr, "test-serial-stdin: FAIL: %s\n", what);
    exit(1);
}

/* The guest, in the window after serial.c drops the lock: read RBR until
 * in_buf is under half full (serial_refill() moves in_buf into the FIFO on
 * every guest read). */
static void guest_drains(Serial *s)
{
    Vm *vm = s->vm;

    for (unsigned reads = 0; s->in_len >= sizeof(s->in_buf) / 2; reads++) {
        uint32_t value = 0;

        if (reads > 2 * sizeof(s->in_buf)) {
            fail("reading RBR does not drain in_buf");
        }
        if (!ioport_dispatch(vm, COM1_RBR_PORT, 1, false, &value)) {
            fail("the serial port does not answer a read of RBR");
        }
    }
}

void __wrap_qemu_mutex_unlock(QemuMutex *mutex)
{
    __real_qemu_mutex_unlock(mutex);
    if (hook_serial && mutex == &hook_serial->lock) {
        Serial *s = hook_serial;

        hook_serial = NULL;     /* guest_drains() takes the lock too */
        hook_runs++;
        hook_paused_seen = s->in_paused;
        guest_drains(s);
    }
}

static int stdin_waiting_bytes(void)
{
    int n = -1;

    if (ioctl(STDIN_FILENO, FIONREAD, &n) < 0) {
        fail("FIONREAD on stdin");
    }
    return n;
}

int main(void)
{
    Vm *vm = g_new0(Vm, 1);
    Serial *s = &vm->serial;
    uint8_t fill[sizeof(s->in_buf)], more[STDIN_BYTES];
    Error *err = NULL;
    int pipefd[2];
    size_t left;

    if (pipe(pipefd) < 0 || dup2(pipefd[0], STDIN_FILENO) < 0) {
        fail("cannot make stdin a pipe");
    }
    close(pipefd[0]);
    qemu_init_main_loop(&error_fatal);
    vm->cfg.no_kvm = true;
    vm->cfg.quiet = true;
    vm->cfg.console_stdin = true;
    vm->kvm_fd = vm->vm_fd = vm->signal_fd = -1;
    serial_init(vm, &err);
    if (err) {
        fail("serial_init");
    }

    /* in_buf full (the guest has not listened yet: nothing moves on). */
    memset(fill, 'a', sizeof(fill));
    if (serial_input(s, fill, sizeof(fill)) != sizeof(fill)) {
        fail("serial_input does not take a full in_buf");
    }
    memset(more, 'b', sizeof(more));
    if (write(pipefd[1], more, sizeof(more)) != (ssize_t)sizeof(more)) {
        fail("cannot write to the stdin pipe");
    }

    /* The stdin handler runs, finds no room; the guest drains right after
     * the handler's first unlock. */
    hook_serial = s;
    main_loop_wait(true);
    if (hook_runs != 1) {
        fail("the stdin handler did not run (the hook never fired)");
    }
    left = s->in_len;

    /* The resume BH, then the stdin handler again. */
    for (int i = 0; i < 8 && stdin_waiting_bytes() > 0; i++) {
        main_loop_wait(true);
    }
    if (stdin_waiting_bytes() != 0) {
        fail("stdin stays paused with room in in_buf (lost resume)");
    }
    if (s->in_paused || s->in_len != left + STDIN_BYTES) {
        fail("the bytes read from stdin are not all in in_buf");
    }
    if (!hook_paused_seen) {
        fail("the guest drained in_buf between the room check and the "
             "pause: stdin was not yet paused when the lock was dropped");
    }
    printf("test-serial-stdin: paused before the guest drained, resumed, "
           "%u stdin bytes read after the drain\n", STDIN_BYTES);
    serial_close(s);
    g_free(vm);
    return 0;
}
