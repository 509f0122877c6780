/*
 * harness/kvm/serial.c — the 8250 model (uart.c) wired to KVM and the host.
 *
 * Method: the vCPU thread drives the UART through port exits at 0x3f8
 * (COM1), the main loop feeds it host input; one mutex covers both.  The
 * interrupt line is IRQ 4 on the in-kernel 8259/IOAPIC (KVM_IRQ_LINE).
 * Output is buffered per line and written to stdout or a file; each
 * completed line is checked for the run's marker, and a hit is passed to
 * the main loop as a BH — the vCPU thread never touches loop state itself.
 * Input comes from stdin (a qemu_set_fd_handler handler on iohandler_ctx)
 * or the monitor's send-console; bytes wait in in_buf until the guest
 * empties the 16-byte FIFO, and stdin is paused while in_buf is full.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "vmm.h"

#define SERIAL_BASE 0x3f8
#define SERIAL_IRQ  4

static void serial_write_out(Serial *s)
{
    size_t done = 0;

    while (done < s->out_len) {
        ssize_t n = write(s->out_fd, s->out_buf + done, s->out_len - done);

        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            break;              /* console gone: drop output, keep running */
        }
        done += n;
    }
    s->out_len = 0;
}

static void serial_line_done(Serial *s)
{
    const char *marker = s->vm->cfg.marker;

    s->line[s->line_len] = '\0';
    if (marker && *marker && strstr(s->line, marker)) {
        vm_marker_seen(s->vm, s->line);
    }
    s->line_len = 0;
}

/* Uart.tx: the vCPU thread, under s->lock. */
static void serial_tx(void *opaque, uint8_t byte)
{
    Serial *s = opaque;

    if (s->out_fd >= 0) {
        s->out_buf[s->out_len++] = (char)byte;
        if (byte == '\n' || s->out_len == sizeof(s->out_buf)) {
            serial_write_out(s);
        }
    }
    if (byte == '\n') {
        serial_line_done(s);
    } else if (byte != '\r' && s->line_len < sizeof(s->line) - 1) {
        s->line[s->line_len++] = (char)byte;
    }
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

    qemu_mutex_lock(&s->lock);
    room = sizeof(s->in_buf) - s->in_len;
    qemu_mutex_unlock(&s->lock);
    if (room == 0) {
        /* Pause: serial_refill() resumes us once the guest reads. */
        qemu_mutex_lock(&s->lock);
        s->in_paused = true;
        qemu_mutex_unlock(&s->lock);
        qemu_set_fd_handler(s->in_fd, NULL, NULL, NULL);
        return;
    }
    n = read(s->in_fd, buf, MIN(room, sizeof(buf)));
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
        qemu_set_fd_handler(s->in_fd, NULL, NULL, NULL);   /* EOF */
        return;
    }
    if (n > 0) {
        serial_input(s, buf, n);
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

    s->vm = vm;
    s->in_fd = -1;
    qemu_mutex_init(&s->lock);
    uart_init(&s->uart, serial_tx, serial_set_irq, s);
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
    if (!s->vm) {
        return;                 /* setup failed before the serial port */
    }
    qemu_mutex_lock(&s->lock);
    if (s->out_fd >= 0) {
        serial_write_out(s);
    }
    qemu_mutex_unlock(&s->lock);
}
