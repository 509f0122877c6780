/*
 * harness/cmd-smoke.c — `qloop smoke`: the real-KVM smoke run.
 *
 * The VMM lives in harness/kvm/ (docs/kvm.md); its one-command runner is
 * the qloop-smoke program, built beside this one.  `qloop smoke` hands its
 * arguments to it, so both spellings behave the same: the project's test
 * guest on any /dev/kvm, Debian's kernel where the host has vmx/svm, and
 * a loud skip for what cannot run.  Exit status: 0 pass, 1 fail, 77 no
 * /dev/kvm (skipped), 2 usage.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

#ifndef QLOOP_SMOKE_PATH
#define QLOOP_SMOKE_PATH ""
#endif

int cmd_smoke(int argc, char **argv)
{
    const char *path = g_getenv("QLOOP_SMOKE");
    char **args = g_new0(char *, argc + 1);

    if (!path || !*path) {
        path = QLOOP_SMOKE_PATH;
    }
    if (!*path || access(path, X_OK) != 0) {
        fprintf(stderr, "qloop smoke: the smoke runner is not built here "
                "(%s); build the qloop-smoke target (x86-64 Linux only) or "
                "set QLOOP_SMOKE\n", *path ? path : "no path");
        g_free(args);
        return EXIT_USAGE;
    }
    args[0] = (char *)path;
    for (int i = 1; i < argc; i++) {
        args[i] = argv[i];
    }
    execv(path, args);
    fprintf(stderr, "qloop smoke: cannot run %s: %s\n", path, strerror(errno));
    g_free(args);
    return EXIT_USAGE;
}
