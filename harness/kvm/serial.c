/*
 * harness/kvm/serial.c — the 8250 model (uart.c) wired to KVM and the host.
 *
 * Method: the vCPU thread drives the UART through port exits at 0x3f8
 * (COM1), the main loop feeds it host input; one mutex covers both.  The
 * interrupt line is IRQ 4 on the in-kernel 8259/IOAPIC (KVM_IRQ_LINE).
 * Output goes into a bounded ring under the lock; the main loop drains it
 * to stdout or a file with non-blocking writes outside the lock (a BH,
 * then a POLLOUT handler while the fd is full), so a console nobody reads
 * loses output (counted) and never blocks the vCPU, the main loop or the
 * shutdown.  Each completed line is checked for the run's marker, and a
 * hit is passed to the main loop as a BH — the vCPU thread never touches
 * loop state itself.
 * Input comes from stdin (a qemu_set_fd_handler handler on iohandler_ctx)
 * or the monitor's send-console; bytes wait in in_buf until the guest
 * empties the 16-byte FIFO, and stdin is paused while in_buf is full.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vmm.h"

#define SERIAL_BASE 0x3f8
#define SERIAL_IRQ  4
/* One write() from the ring; also how often a newline-less stream wakes
 * the main loop. */
#define SERIAL_OUT_CHUNK_BYTES 4096
/* At teardown, how long a console that does not read may hold the VMM. */
#define SERIAL_FINAL_FLUSH_MS 1000

static void serial_line_done(Serial *s)
{
    const char *marker = s->vm->cfg.marker;

    s->line[s->line_len] = '\0';
    if (marker && *marker && strstr(s->line, marker)) {
        vm_marker_seen(s->vm, s->line);
    }
    s->line_len = 0;
}

/* Uart.tx: the vCPU thread, under s->lock.  Never touches the fd. */
static void serial_tx(void *opaque, uint8_t byte)
{
    Serial *s = opaque;

    if (s->out_fd >= 0 && console_ring_put(&s->out, byte)) {
        qemu_bh_schedule(s->out_bh);    /* pending went false -> true */
    }
    if (byte == '\n') {
        serial_line_done(s);
    } else if (byte != '\r' && s->line_len < sizeof(s->line) - 1) {
        s->line[s->line_len++] = (char)byte;
    }
}

static void serial_out_writable(void *opaque);

/* Wait for POLLOUT (true) or stop waiting (false); main loop only. */
static void serial_out_wait(Serial *s, bool wait)
{
    if (s->out_waiting != wait) {
        s->out_waiting = wait;
        qemu_set_fd_handler(s->out_fd, NULL,
                            wait ? serial_out_writable : NULL, s);
    }
}

/*
 * One non-blocking write of the ring's oldest contiguous bytes, outside
 * the lock (the vCPU keeps appending meanwhile; only this thread
 * consumes).  Returns the bytes written, 0 if the fd would block, -1 if
 * the console is gone (everything buffered is then dropped).
 */
static ssize_t serial_out_write_once(Serial *s)
{
    uint8_t chunk[SERIAL_OUT_CHUNK_BYTES];
    size_t len;
    ssize_t n;

    qemu_mutex_lock(&s->lock);
    len = console_ring_peek(&s->out, chunk, sizeof(chunk));
    qemu_mutex_unlock(&s->lock);
    if (len == 0) {
        return 0;
    }
    do {
        n = write(s->out_fd, chunk, len);
    } while (n < 0 && errno == EINTR);
    qemu_mutex_lock(&s->lock);
    if (n < 0 && errno != EAGAIN) {
        n = (ssize_t)s->out.len;        /* console gone: drop it all */
        console_ring_consume(&s->out, s->out.len, false);
    } else if (n > 0) {
        console_ring_consume(&s->out, (size_t)n, true);
    }
    qemu_mutex_unlock(&s->lock);
    return n < 0 ? 0 : n;
}

/*
 * Main loop (out_bh or POLLOUT): drain at most one ring's worth per call,
 * so a fast console cannot starve the loop; wait for POLLOUT when the fd
 * is full; the ring settles (pending cleared) only once it is empty.
 */
static void serial_out_drain(Serial *s)
{
    size_t budget = sizeof(s->out_buf);

    while (budget > 0) {
        ssize_t n = serial_out_write_once(s);
        bool empty;

        qemu_mutex_lock(&s->lock);
        empty = console_ring_settle(&s->out);
        qemu_mutex_unlock(&s->lock);
        if (empty) {
            serial_out_wait(s, false);
            return;
        }
        if (n == 0) {
            serial_out_wait(s, true);   /* full: come back on POLLOUT */
            return;
        }
        budget -= MIN(budget, (size_t)n);
    }
    qemu_bh_schedule(s->out_bh);        /* more to do: yield to the loop */
}

static void serial_out_bh(void *opaque)
{
    serial_out_drain(opaque);
}

static void serial_out_writable(void *opaque)
{
    serial_out_drain(opaque);
}

static void serial_set_irq(void *opaque, bool level)
{
    Serial *s = opaque;

    vm_irq_line(s->vm, SERIAL_IRQ, level);
}

static void serial_stdin_read(void *opaque);

/* Main loop BH: the guest made room, read stdin again. */
static void serial_resume_input(void *opaque)
{
    Serial *s = opaque;

    qemu_set_fd_handler(s->in_fd, serial_stdin_read, NULL, s);
}

/*
 * Under s->lock: move waiting input into the FIFO — only once the guest
 * shows it is listening (it reads the UART, or enables the receive
 * interrupt).  Bytes handed over earlier would die in the FIFO reset every
 * driver does at init (FCR clear), so early input waits here instead.
 */
static void serial_refill(Serial *s, bool guest_read)
{
    size_t n;

    if (s->in_len == 0 || (!guest_read && !(s->uart.ier & 0x01))) {
        return;
    }
    n = uart_receive(&s->uart, s->in_buf, s->in_len);
    memmove(s->in_buf, s->in_buf + n, s->in_len - n);
    s->in_len -= n;
    if (s->in_paused && s->in_len < sizeof(s->in_buf) / 2) {
        s->in_paused = false;
        aio_bh_schedule_oneshot(qemu_get_aio_context(), serial_resume_input,
                                s);
    }
}

size_t serial_input(Serial *s, const uint8_t *buf, size_t len)
{
    qemu_mutex_lock(&s->lock);
    len = MIN(len, sizeof(s->in_buf) - s->in_len);
    memcpy(s->in_buf + s->in_len, buf, len);
    s->in_len += len;
    serial_refill(s, false);
    qemu_mutex_unlock(&s->lock);
    return len;
}

static void serial_stdin_read(void *opaque)
{
    Serial *s = opaque;
    uint8_t buf[512];
    ssize_t n;
    size_t room;

    /* Room check and pause in one critical section: were they two, the
     * guest could drain in_buf between them, its serial_refill() would
     * see in_paused still false and never schedule the resume. */
    qemu_mutex_lock(&s->lock);
    room = sizeof(s->in_buf) - s->in_len;
    if (room == 0) {
        s->in_paused = true;
    }
    qemu_mutex_unlock(&s->lock);
    if (room == 0) {
        /* serial_refill() resumes us with a BH, which runs after this. */
        qemu_set_fd_handler(s->in_fd, NULL, NULL, NULL);
        return;
    }
    n = read(s->in_fd, buf, MIN(room, sizeof(buf)));
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
        qemu_set_fd_handler(s->in_fd, NULL, NULL, NULL);   /* EOF */
        return;
    }
    if (n > 0) {
        serial_input(s, buf, (size_t)n);
    }
}

static bool serial_io_read(Vm *vm, void *opaque, uint16_t port,
                           unsigned size, uint32_t *value)
{
    Serial *s = opaque;

    qemu_mutex_lock(&s->lock);
    *value = uart_io_read(&s->uart, port - SERIAL_BASE);
    serial_refill(s, true);
    qemu_mutex_unlock(&s->lock);
    return true;
}

static bool serial_io_write(Vm *vm, void *opaque, uint16_t port,
                            unsigned size, uint32_t value)
{
    Serial *s = opaque;

    qemu_mutex_lock(&s->lock);
    uart_io_write(&s->uart, port - SERIAL_BASE, (uint8_t)value);
    serial_refill(s, false);    /* ERBFI may have just been enabled */
    qemu_mutex_unlock(&s->lock);
    return true;
}

void serial_init(Vm *vm, Error **errp)
{
    Serial *s = &vm->serial;
    struct stat st;

    s->vm = vm;
    s->in_fd = -1;
    s->out_flags_orig = -1;
    qemu_mutex_init(&s->lock);
    uart_init(&s->uart, serial_tx, serial_set_irq, s);
    s->out_bh = aio_bh_new(qemu_get_aio_context(), serial_out_bh, s);
    console_ring_init(&s->out, s->out_buf, sizeof(s->out_buf),
                      SERIAL_OUT_CHUNK_BYTES);
    if (vm->cfg.console_path) {
        s->out_fd = open(vm->cfg.console_path,
                         O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (s->out_fd < 0) {
            error_setg_errno(errp, errno, "opening %s", vm->cfg.console_path);
            return;
        }
    } else {
        s->out_fd = vm->cfg.quiet ? -1 : STDOUT_FILENO;
    }
    if (s->out_fd >= 0 && fstat(s->out_fd, &st) == 0 &&
        !S_ISREG(st.st_mode)) {
        /* A pipe, socket or tty may stop reading: never block on it. */
        s->out_flags_orig = fcntl(s->out_fd, F_GETFL);
        fcntl(s->out_fd, F_SETFL, s->out_flags_orig | O_NONBLOCK);
    }
    if (vm->cfg.console_stdin) {
        s->in_fd = STDIN_FILENO;
        fcntl(s->in_fd, F_SETFL, fcntl(s->in_fd, F_GETFL) | O_NONBLOCK);
        qemu_set_fd_handler(s->in_fd, serial_stdin_read, NULL, s);
    }
    ioport_register(vm, SERIAL_BASE, 8, serial_io_read, serial_io_write, s,
                    "serial");
}

void serial_flush(Serial *s)
{
    int64_t deadline_ms = qemu_clock_get_ms(QEMU_CLOCK_REALTIME) +
                          SERIAL_FINAL_FLUSH_MS;

    if (!s->vm || s->out_fd < 0) {
        return;                 /* setup failed before, or no console */
    }
    serial_out_wait(s, false);
    qemu_mutex_lock(&s->lock);
    s->out.pending = true;      /* this is the drain now (vCPUs joined) */
    qemu_mutex_unlock(&s->lock);
    for (;;) {
        struct pollfd pfd = { .fd = s->out_fd, .events = POLLOUT };
        int64_t left_ms = deadline_ms -
                          qemu_clock_get_ms(QEMU_CLOCK_REALTIME);
        bool empty;

        while (serial_out_write_once(s) > 0) {
            continue;
        }
        qemu_mutex_lock(&s->lock);
        if (left_ms <= 0) {                     /* the reader is stuck */
            console_ring_consume(&s->out, s->out.len, false);
        }
        empty = console_ring_settle(&s->out);
        qemu_mutex_unlock(&s->lock);
        if (empty) {
            break;
        }
        if (poll(&pfd, 1, (int)left_ms) < 0 && errno != EINTR) {
            left_ms = 0;
        }
    }
    if (s->out_flags_orig >= 0) {
        fcntl(s->out_fd, F_SETFL, s->out_flags_orig);
    }
}

void serial_console_stats(Serial *s, uint64_t *written, uint64_t *dropped)
{
    qemu_mutex_lock(&s->lock);
    *written = s->out.written;
    *dropped = s->out.dropped;
    qemu_mutex_unlock(&s->lock);
}

/* After serial_flush(): the BH, the handlers and the output fd go. */
void serial_close(Serial *s)
{
    if (!s->vm) {
        return;
    }
    if (s->in_fd >= 0) {
        qemu_set_fd_handler(s->in_fd, NULL, NULL, NULL);
    }
    serial_out_wait(s, false);
    qemu_bh_delete(s->out_bh);
    s->out_bh = NULL;
    if (s->out_fd > STDERR_FILENO) {
        close(s->out_fd);
    }
    s->out_fd = -1;
}
