/* qemu/aio.h (qloop compatibility): QEMU 10 moved block/aio.h here; both
 * paths work. */
#include "block/aio.h"
