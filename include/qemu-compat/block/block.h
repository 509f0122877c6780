/* block/block.h (qloop compatibility): of the block layer, only what the
 * thread pool needs — BlockAIOCB and its cancellation. */
#include "block/aio.h"
#include "qloop/thread-pool.h"
