/* block/thread-pool.h (qloop compatibility) */
#include "qloop/thread-pool.h"
