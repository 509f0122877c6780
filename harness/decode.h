/*
 * harness/decode.h — fuzzer bytes -> scenario + choice tape.
 */
#ifndef QLOOP_HARNESS_DECODE_H
#define QLOOP_HARNESS_DECODE_H

#include <stddef.h>
#include <stdint.h>

#include "scenario.h"

/*
 * Decode data into a scenario; the bytes the scenario did not use are the
 * choice tape (SIM_TAPE_BYTES), returned through tape/tape_len.  Never
 * fails: every byte string is a valid scenario that passes scn_validate()
 * and runner_check(), and whose blocking operations always have a waker
 * if the loop core is correct — so a hang is the core's fault.
 */
void scn_decode(const uint8_t *data, size_t len, Scenario *out,
                const uint8_t **tape, size_t *tape_len);

/* The decoder's opcode bytes, for fuzzer dictionaries. */
extern const char *const scn_decode_opcodes[];

#endif
