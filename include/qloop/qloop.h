/* qloop/qloop.h — everything: the loop core's public API in one include. */
#ifndef QLOOP_QLOOP_H
#define QLOOP_QLOOP_H

#include "qloop/error.h"
#include "qloop/thread.h"
#include "qloop/event-notifier.h"
#include "qloop/timer.h"
#include "qloop/aio.h"
#include "qloop/main-loop.h"
#include "qloop/thread-pool.h"

#define QLOOP_VERSION "0.1.0"

#endif
