/* qemu/coroutine.h (qloop compatibility) */
#include "qloop/coroutine.h"
