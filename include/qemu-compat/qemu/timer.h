/* qemu/timer.h (qloop compatibility) */
#include "qloop/timer.h"
