/* block/aio.h (qloop compatibility) */
#include "qloop/aio.h"
#include "qloop/thread-pool.h"
#include "qloop/coroutine.h"
