/*
 * harness/scn-parse.h — the .scn text format: parser and printer.
 *
 * The format is specified in docs/scenario-format.md.  scn_parse() turns
 * text into the IR of scenario.h; scn_print() turns a valid IR back into
 * text that parses to an equal scenario (scn_equal()).
 */
#ifndef QLOOP_HARNESS_SCN_PARSE_H
#define QLOOP_HARNESS_SCN_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "scenario.h"

/*
 * Parse len bytes of .scn text (not NUL-terminated; any bytes at all).
 * On success fills *out, which then passes scn_validate(), and returns
 * true.  On failure zeroes *out, writes one line without a newline,
 * "FILE:LINE: what is wrong", to err (truncated to err_len), and returns
 * false.  filename is used only in that message.
 */
bool scn_parse(const char *text, size_t len, const char *filename,
               Scenario *out, char *err, size_t err_len);

/*
 * Print s in canonical layout: options, then declarations in ScnObjKind
 * order (each kind in index order), then threads in index order.  s must
 * pass scn_validate(); otherwise one comment line saying why is printed.
 */
void scn_print(const Scenario *s, FILE *out);

/*
 * Same scenario: options, names, clocks, and the contents (kind, obj,
 * obj_kind, arg) of every body.  Where bodies lie in ops[] and the line fields are
 * ignored, so a printed-and-reparsed scenario compares equal.
 */
bool scn_equal(const Scenario *a, const Scenario *b);

#endif
