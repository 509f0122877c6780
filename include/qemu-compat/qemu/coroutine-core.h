/* qemu/coroutine-core.h (qloop compatibility): QEMU splits the core API
 * out of qemu/coroutine.h; qloop keeps both in one header. */
#include "qloop/coroutine.h"
