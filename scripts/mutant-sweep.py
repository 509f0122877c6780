#!/usr/bin/env python3
"""scripts/mutant-sweep.py — generated one-line mutants of loop/ against the
simulation tools: which plausible bugs do the shipped scenarios miss?

The zoo (variants/) holds bugs written by hand after QEMU's history; this
sweep makes many small ones mechanically, the way an outside mutation
tester would, so the gaps it leaves are found before someone else finds
them.  Each mutant changes one line of one core file:

    rel      a comparison's boundary (<  <=, >  >=)
    eq, ne   == and != swapped
    and, or  && and || swapped
    not      `if (!x)` made `if (x)`
    bool     return true / return false swapped
    order    an acquire load, release store or full-barrier accessor made
             relaxed (qatomic_load_acquire -> qatomic_read, ...)
    off1     a `+ 1` or `- 1` dropped
    del      a one-line call or assignment statement deleted

Lines of comments, assertions, traces and error reports are left alone.
A random sample (--seed, --count) is built against an existing build tree
(the sanitized default preset: a memory error is a verdict) by compiling
the one mutated file and linking `qloop` with the rest of the tree's
objects (~2 s a mutant), then checked, stopping at the first verdict:

    1. qloop run --runs 10 on every scenario of docs/examples,
       corpus/regressions and corpus/coverage,
    2. the same with --pct 3,
    3. qloop explore --max-runs 300 (sc), then --memory c11 and tso,
    4. with --corpus: qloop replay of every corpus/loop input (what a
       fuzzing campaign sees before its first mutation).

A mutant no step kills SURVIVES: a gap in the scenarios or oracles, or an
equivalent mutant (no observable change); the report says which line.
Exit status: 0 the sweep ran (survivors are findings, not failures),
2 usage or a build tree without the objects it needs.

    scripts/mutant-sweep.py --build build/default --count 160 --jobs 2 -o sweep
"""
import argparse
import concurrent.futures
import json
import os
import random
import re
import shlex
import subprocess
import sys

OPS = [
    ('rel', r'(?<![<>=!])<=(?!=)', '<'), ('rel', r'(?<![<>=!-])<(?![<=])', '<='),
    ('rel', r'(?<![<>=!])>=(?!=)', '>'), ('rel', r'(?<![<>=!-])>(?![>=])', '>='),
    ('eq', r'==', '!='), ('ne', r'!=', '=='),
    ('and', r'&&', '||'), ('or', r'\|\|', '&&'),
    ('not', r'if \(!', 'if ('),
    ('bool', r'return true;', 'return false;'),
    ('bool', r'return false;', 'return true;'),
    ('order', r'qatomic_mb_set\(', 'qatomic_set('),
    ('order', r'qatomic_mb_read\(', 'qatomic_read('),
    ('order', r'qatomic_load_acquire\(', 'qatomic_read('),
    ('order', r'qatomic_store_release\(', 'qatomic_set('),
    ('off1', r' \+ 1\b', ''), ('off1', r' - 1\b', ''),
]
# Error plumbing and debugging output: a change there is not a loop bug.
SKIP_FILES = {'error-report.c', 'error.c', 'poll-ns.c'}
SKIP_WORDS = ('QLOOP_ASSERT', 'assert(', 'error_report', 'qos_trace',
              'g_assert', 'fprintf', 'error_setg', 'qos_panic')
DELETABLE = re.compile(r'^[A-Za-z_][\w>.\-\[\]]*'
                       r'(\s*(=|\+=|-=|\|=|&=)\s*.*|\(.*\));$')
DECLARATION = re.compile(r'^\w+\s+\**\w+\s*=')


def code_lines(lines):
    """Indexes of lines that are code, outside comments and directives."""
    out, in_comment = [], False
    for i, line in enumerate(lines):
        s = line.strip()
        if in_comment:
            in_comment = '*/' not in s
            continue
        if s.startswith('/*'):
            in_comment = '*/' not in s
            continue
        if s.startswith(('*', '//', '#')) or any(w in s for w in SKIP_WORDS):
            continue
        out.append(i)
    return out


def candidates(src):
    found = []
    for name in sorted(os.listdir(os.path.join(src, 'loop'))):
        if not name.endswith('.c') or name in SKIP_FILES:
            continue
        with open(os.path.join(src, 'loop', name)) as f:
            lines = f.read().split('\n')
        for i in code_lines(lines):
            code = lines[i].split('/*')[0]
            for op, pattern, repl in OPS:
                for m in re.finditer(pattern, code):
                    found.append((name, i, op, m.start(), m.end(), repl))
            s = code.strip()
            if (DELETABLE.match(s) and not s.startswith('return')
                    and not DECLARATION.match(s)):
                found.append((name, i, 'del', 0, len(lines[i]), None))
    return found


def mutate(src, cand):
    name, i, op, a, b, repl = cand
    with open(os.path.join(src, 'loop', name)) as f:
        lines = f.read().split('\n')
    before = lines[i]
    if repl is None:
        lines[i] = '    ; /* MUTANT: deleted */'
    else:
        lines[i] = before[:a] + repl + before[b:]
    return '\n'.join(lines), before.strip(), lines[i].strip()


class Tree:
    """What the build tree gives: the compile command of each core file
    and the link line of a variant's qloop, made to take any objects."""

    def __init__(self, build, src):
        self.build, self.src = os.path.abspath(build), os.path.abspath(src)
        db = os.path.join(self.build, 'compile_commands.json')
        link = os.path.join(self.build, 'variants/CMakeFiles/qloop-bh-fifo.dir/link.txt')
        lib = os.path.join(self.build, 'variants/CMakeFiles/qloop-sim-bh-fifo.dir/link.txt')
        for path in (db, link, lib):
            if not os.path.exists(path):
                sys.exit(f'{path}:1: missing: configure and build the tree '
                         '(with its variants) first')
        self.compile = {}
        for e in json.load(open(db)):
            m = re.search(r'qloop-sim-core-([\w-]+)\.dir', e['command'])
            if m and e['file'] == os.path.join(self.src, 'loop', m.group(1) + '.c'):
                self.compile[m.group(1) + '.c'] = (e['directory'], e['command'])
        self.link = open(link).read().split('\n')[0]
        objs = [o.strip('"') for o in open(lib).read().split() if o.endswith('.o"')]
        # bh-fifo's own bh.c is not the production one.
        self.objects = [o for o in objs if 'bh-fifo' not in o]
        self.bh_object = os.path.join(
            self.build, 'sim/CMakeFiles/qloop-sim-core-bh.dir/__/loop/bh.c.o')

    def build_mutant(self, name, text, out):
        """qloop with loop/name replaced by text, in out; None or the error."""
        os.makedirs(out, exist_ok=True)
        source = os.path.join(out, name)
        with open(source, 'w') as f:
            f.write(text)
        directory, command = self.compile[name]
        obj = os.path.join(out, name + '.o')
        args = [a for a in shlex.split(command) if a != '-Werror']
        args[args.index('-o') + 1] = obj
        args[args.index('-c') + 1] = source
        # The mutated file includes its neighbours as loop/ does.
        args.append('-iquote' + os.path.join(self.src, 'loop'))
        log = open(os.path.join(out, 'build.log'), 'w')
        if subprocess.run(args, cwd=directory, stdout=log, stderr=log).returncode:
            return 'build failed'
        base = name[:-2]
        objects = []
        for o in self.objects:
            objects.append(obj if o.endswith(f'qloop-sim-core-{base}.dir/__/loop/{name}.o') else o)
        objects.insert(0, obj if name == 'bh.c' else self.bh_object)
        line = self.link.replace(' libqloop-sim-bh-fifo.a ', ' ' + ' '.join(objects) + ' ')
        line = line.replace(' -o ../harness/qloop-bh-fifo ',
                            ' -o ' + os.path.join(out, 'qloop') + ' ')
        if subprocess.run(line, shell=True, cwd=os.path.join(self.build, 'variants'),
                          stdout=log, stderr=log).returncode:
            return 'link failed'
        return None


def exit_status(args):
    """A command's exit status, output discarded; 'timeout' past 60 s (a
    mutant that loops without a scheduling point never ends by itself)."""
    try:
        return subprocess.run(args, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, timeout=60).returncode
    except subprocess.TimeoutExpired:
        return 'timeout'


def check(src, qloop, out, corpus):
    """The first step that kills the mutant, or None."""
    scenarios = sorted(os.path.join(src, d, f) for d in ('docs/examples', 'corpus/regressions',
                                                        'corpus/coverage')
                       for f in os.listdir(os.path.join(src, d)) if f.endswith('.scn'))
    steps = [['run', '--runs', '10'], ['run', '--pct', '3', '--runs', '10'],
             ['explore', '--max-runs', '300'],
             ['explore', '--memory', 'c11', '--max-runs', '300'],
             ['explore', '--memory', 'tso', '--max-runs', '300']]
    replay = os.path.join(out, 'fail.replay')
    for step in steps:
        for scn in scenarios:
            rc = exit_status([qloop] + step + ['-o', replay, scn])
            if rc not in (0, 2):
                return f'{" ".join(step)} {os.path.basename(scn)} (exit {rc})'
    if corpus:
        loop = os.path.join(src, 'corpus/loop')
        for f in sorted(os.listdir(loop)):
            rc = exit_status([qloop, 'replay', '-q', os.path.join(loop, f)])
            if rc not in (0, 2):
                return f'replay corpus/loop/{f} (exit {rc})'
    return None


def main():
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--build', default=os.path.join(here, 'build/default'),
                   help='a configured, built tree (default: build/default)')
    p.add_argument('--count', type=int, default=160, help='mutants to sample (default 160)')
    p.add_argument('--seed', type=int, default=1, help='the sample (default 1)')
    p.add_argument('--jobs', type=int, default=2, help='mutants at once (default 2)')
    p.add_argument('--corpus', action='store_true',
                   help='also replay corpus/loop against each survivor')
    p.add_argument('--list', action='store_true', help='print the sample, build nothing')
    p.add_argument('-o', '--output', default='mutant-sweep', help='directory (default mutant-sweep)')
    a = p.parse_args()
    found = candidates(here)
    sample = sorted(random.Random(a.seed).sample(found, min(a.count, len(found))))
    print(f'{len(found)} candidate mutants in loop/; {len(sample)} sampled (seed {a.seed})',
          flush=True)
    if a.list:
        for k, c in enumerate(sample):
            _, before, after = mutate(here, c)
            print(f'm{k:03d} {c[0]}:{c[1] + 1} {c[2]}: {before} => {after}')
        return 0
    tree = Tree(a.build, here)

    def one(k):
        c = sample[k]
        text, before, after = mutate(here, c)
        out = os.path.join(a.output, f'm{k:03d}')
        where = f'm{k:03d} {c[0]}:{c[1] + 1} {c[2]}: {before} => {after}'
        err = tree.build_mutant(c[0], text, out)
        if err:
            return 'unbuilt', where, err
        how = check(here, os.path.join(out, 'qloop'), out, a.corpus)
        return ('killed', where, how) if how else ('survived', where, '')

    counts = {'killed': 0, 'survived': 0, 'unbuilt': 0}
    os.makedirs(a.output, exist_ok=True)
    with open(os.path.join(a.output, 'report.txt'), 'w') as report, \
            concurrent.futures.ThreadPoolExecutor(a.jobs) as pool:
        for state, where, how in pool.map(one, range(len(sample))):
            counts[state] += 1
            line = f'{state.upper():9} {where}' + (f'  [{how}]' if how else '')
            print(line, flush=True)
            report.write(line + '\n')
    print(f'mutant-sweep: {counts["killed"]} killed, {counts["survived"]} survived, '
          f'{counts["unbuilt"]} did not build, of {len(sample)}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
