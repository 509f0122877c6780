/*
 * harness/scn-words.h — words of the .scn language that the parser and the
 * printer share (private to scn-parse.c and scn-print.c).
 */
#ifndef QLOOP_HARNESS_SCN_WORDS_H
#define QLOOP_HARNESS_SCN_WORDS_H

#define SCN_CLOCK_NAMES 4           /* QEMU_CLOCK_REALTIME .. VIRTUAL_RT */
#define SCN_FAULT_WORDS 11
#define SCN_FAULTS_ALL 511u         /* SIM_FAULT_EVERY */
#define SCN_FAULT_BITS 9            /* spurious .. shortread: scn_faults[1..9] */

typedef struct ScnFaultWord {
    const char *name;
    unsigned mask;                  /* SimFault bits */
} ScnFaultWord;

extern const char *const scn_clocks[SCN_CLOCK_NAMES];
extern const ScnFaultWord scn_faults[SCN_FAULT_WORDS];
extern const char *const scn_signals[];
extern const char *const scn_locks[];     /* SCN_LOCKS: after co_wait,
                                             co_enter_next; [0] unwritten */
extern const char *const scn_scales[];    /* SCN_SCALES: ns us ms */   /* SCN_SIGNALS: sigio sigalrm sigbus */

#endif
