/* qemu/event_notifier.h (qloop compatibility) */
#include "qloop/event-notifier.h"
