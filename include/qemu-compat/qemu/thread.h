/* qemu/thread.h (qloop compatibility) */
#include "qloop/thread.h"
