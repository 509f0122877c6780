/* qemu/main-loop.h (qloop compatibility) */
#include "qloop/main-loop.h"
