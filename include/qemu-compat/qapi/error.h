/* qapi/error.h (qloop compatibility) */
#include "qloop/error.h"
