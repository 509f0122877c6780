/*
 * harness/scn-parse.c — the .scn text format: the parser.
 *
 * The format (docs/scenario-format.md) is line-oriented: one statement a
 * line, '#' comments, bodies in braces that may span lines.  Input is any
 * bytes of a given length — a fuzzer's, a person's — so nothing here
 * trusts a NUL, a line length or a count.
 *
 * Method: a hand-written lexer with one token of lookahead feeds a
 * recursive-descent parser that cannot recurse (bodies do not nest), so
 * stack use is constant whatever the input.  Bodies are appended to
 * Scenario.ops as they are read, which keeps each one contiguous.  Names
 * may be used before they are declared, so an operation's name is only
 * remembered (refs[], parallel to ops[]) and resolved once the whole file
 * is read: syntax errors are reported first, then the first name error in
 * file order.  Every error stops the parse at once and is formatted as one
 * line, "FILE:LINE: what", with control bytes replaced so it stays one.
 * The printer (scn-print.c) writes the canonical layout from the same
 * tables (scn-words.h, scn_op_name() and friends), so text and IR cannot
 * drift apart.
 */
#include "scn-parse.h"
#include "scn-words.h"

#include <glib.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* ---- words of the language ---------------------------------------------- */

const char *const scn_clocks[SCN_CLOCK_NAMES] = {
    "realtime", "virtual", "host", "virtual_rt",   /* QEMUClockType order */
};

const ScnFaultWord scn_faults[SCN_FAULT_WORDS] = {
    { "none", 0 }, { "spurious", 1u << 0 }, { "eintr", 1u << 1 },
    { "early", 1u << 2 }, { "eagain", 1u << 3 }, { "hostjump", 1u << 4 },
    { "refuse", 1u << 5 }, { "fdcreate", 1u << 6 }, { "readfail", 1u << 7 },
    { "shortread", 1u << 8 },
    { "all", SCN_FAULTS_ALL },
};

/* Words that are neither operations nor object kinds but still reserved. */
static const char *const scn_reserved[] = {
    "thread", "faults", "main_loop", "alt", "nonblocking", "guard", "scale",
    "write", "nocb", "on", "home", "suppress",
};

/* Units of a timer's 'scale', SCN_SCALE_* order. */
const char *const scn_scales[SCN_SCALES] = { "ns", "us", "ms" };

const char *const scn_signals[SCN_SIGNALS] = { "sigio", "sigalrm", "sigbus" };

/* The lock a CoQueue call hands the core, SCN_LOCK_* order. */
const char *const scn_locks[SCN_LOCKS] = { "", "qemu_mutex", "co_mutex" };

#define SCN_THREAD_KIND SCN_OBJ_KIND_MAX    /* namespace kind of a thread */
#define SCN_QUOTE_MAX 32                    /* characters of a token quoted */

/* ---- the parser's state -------------------------------------------------- */

typedef enum {
    TOK_EOF, TOK_NEWLINE, TOK_WORD, TOK_NUMBER,
    TOK_LBRACE, TOK_RBRACE, TOK_SEMI, TOK_COMMA, TOK_BAD,
} ScnTokKind;

typedef struct ScnTok {
    ScnTokKind kind;
    const char *text;   /* into the input; len bytes, not NUL-terminated */
    size_t len;
    uint32_t line;
} ScnTok;

/* One entry of the shared namespace of objects and threads. */
typedef struct ScnDecl {
    const char *name;   /* the Scenario's copy, NUL-terminated */
    unsigned kind;      /* ScnObjKind, or SCN_THREAD_KIND */
    unsigned index;     /* within objects[kind] or threads[] */
    uint32_t line;
} ScnDecl;

/* The name an operation uses, resolved after the whole file is read. */
typedef struct ScnRef {
    const char *text;   /* NULL: the op names no object */
    size_t len;
    uint32_t line;
} ScnRef;

typedef struct ScnParser {
    const char *p;          /* lexer cursor */
    const char *end;
    uint32_t line;          /* line of the cursor, saturating */
    ScnTok tok;             /* the current (lookahead) token */
    const char *filename;
    char *err;
    size_t err_len;
    bool failed;
    Scenario *s;
    ScnDecl decls[SCN_OBJ_KIND_MAX * SCN_OBJECTS_MAX + SCN_THREADS_MAX];
    unsigned decl_count;
    uint32_t faults_line;   /* 0: option not given yet */
    uint32_t main_loop_line;
    ScnRef refs[SCN_OPS_MAX];
    ScnRef ctx_refs[SCN_OPS_MAX];   /* the context a coroutine op names */
} ScnParser;

/* ---- lexer ----------------------------------------------------------------- */

static bool scn_is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool scn_is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static const char *scn_skip_word(const char *p, const char *end)
{
    while (p < end && (scn_is_alpha(*p) || scn_is_digit(*p))) {
        p++;
    }
    return p;
}

static ScnTokKind scn_punct(char c)
{
    switch (c) {
    case '{': return TOK_LBRACE;
    case '}': return TOK_RBRACE;
    case ';': return TOK_SEMI;
    case ',': return TOK_COMMA;
    default:  return TOK_BAD;
    }
}

/* Read the next token into P->tok.  Blanks and comments vanish here. */
static void scn_next(ScnParser *P)
{
    const char *p = P->p;
    const char *end = P->end;
    ScnTok *t = &P->tok;

    while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' ||
                       *p == '\v' || *p == '\f')) {
        p++;
    }
    if (p < end && *p == '#') {
        const char *nl = memchr(p, '\n', (size_t)(end - p));

        p = nl ? nl : end;
    }
    t->text = p;
    t->line = P->line;
    if (p == end) {
        t->kind = TOK_EOF;
    } else if (*p == '\n') {
        t->kind = TOK_NEWLINE;
        p++;
        if (P->line < UINT32_MAX) {
            P->line++;
        }
    } else if (scn_is_alpha(*p)) {
        t->kind = TOK_WORD;
        p = scn_skip_word(p, end);
    } else if (scn_is_digit(*p) || (*p == '-' && p + 1 < end && scn_is_digit(p[1]))) {
        /* Digits, then whatever a person might write after them ("1.5ms"),
         * so a bad number is quoted whole. */
        t->kind = TOK_NUMBER;
        p++;
        while (p < end && (scn_is_alpha(*p) || scn_is_digit(*p) || *p == '.')) {
            p++;
        }
    } else {
        t->kind = scn_punct(*p);
        p++;
    }
    t->len = (size_t)(p - t->text);
    P->p = p;
}

static bool scn_tok_is(const ScnTok *t, const char *word)
{
    size_t n = strlen(word);

    return t->kind == TOK_WORD && t->len == n && memcmp(t->text, word, n) == 0;
}

/* The token as an error message shows it: quoted and cut short, or named. */
static const char *scn_tok_desc(const ScnTok *t, char *buf, size_t size)
{
    unsigned char c = t->len ? (unsigned char)t->text[0] : 0;

    switch (t->kind) {
    case TOK_EOF:
        return "end of file";
    case TOK_NEWLINE:
        return "end of line";
    case TOK_WORD:
    case TOK_NUMBER:
        snprintf(buf, size, "'%.*s%s'", (int)MIN(t->len, SCN_QUOTE_MAX),
                 t->text, t->len > SCN_QUOTE_MAX ? "..." : "");
        return buf;
    default:
        if (c > 0x20 && c < 0x7f) {
            snprintf(buf, size, "'%c'", c);
        } else {
            snprintf(buf, size, "byte 0x%02x", c);
        }
        return buf;
    }
}

/* ---- errors -------------------------------------------------------------- */

/* Record the first error as one line; always returns false. */
G_GNUC_PRINTF(3, 4)
static bool scn_fail(ScnParser *P, uint32_t line, const char *fmt, ...)
{
    char what[256];
    va_list ap;

    if (P->failed) {
        return false;
    }
    P->failed = true;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    if (P->err && P->err_len) {
        snprintf(P->err, P->err_len, "%s:%" PRIu32 ": %s", P->filename, line, what);
        /* A file name or a quoted byte must not break the one line. */
        for (char *c = P->err; *c; c++) {
            if ((unsigned char)*c < 0x20 || *c == 0x7f) {
                *c = '?';
            }
        }
    }
    return false;
}

static bool scn_fail_found(ScnParser *P, const char *expected)
{
    char buf[64];

    return scn_fail(P, P->tok.line, "expected %s, found %s", expected,
                    scn_tok_desc(&P->tok, buf, sizeof buf));
}

static const char *scn_article(unsigned kind)
{
    return kind == SCN_OBJ_FD || kind == SCN_OBJ_IOTHREAD ? "an" : "a";
}

static const char *scn_kind_name(unsigned kind)
{
    return kind == SCN_THREAD_KIND ? "thread" : scn_obj_kind_name(kind);
}

/* ---- names and declarations ------------------------------------------------ */

static bool scn_is_keyword(const ScnTok *t)
{
    for (unsigned k = 0; k < SCN_OP_KIND_MAX; k++) {
        if (scn_tok_is(t, scn_op_name(k))) {
            return true;
        }
    }
    for (unsigned k = 0; k < SCN_OBJ_KIND_MAX; k++) {
        if (scn_tok_is(t, scn_obj_kind_name(k))) {
            return true;
        }
    }
    for (size_t i = 0; i < G_N_ELEMENTS(scn_reserved); i++) {
        if (scn_tok_is(t, scn_reserved[i])) {
            return true;
        }
    }
    for (size_t i = 0; i < G_N_ELEMENTS(scn_clocks); i++) {
        if (scn_tok_is(t, scn_clocks[i])) {
            return true;
        }
    }
    for (size_t i = 0; i < G_N_ELEMENTS(scn_signals); i++) {
        if (scn_tok_is(t, scn_signals[i])) {
            return true;
        }
    }
    for (size_t i = 0; i < G_N_ELEMENTS(scn_faults); i++) {
        if (scn_tok_is(t, scn_faults[i].name)) {
            return true;
        }
    }
    return false;
}

/* The current token as a name (after `what`); consumes it. */
static bool scn_expect_name(ScnParser *P, const char *what, ScnTok *name)
{
    char buf[64];

    if (P->tok.kind != TOK_WORD) {
        return scn_fail(P, P->tok.line, "'%s' needs a name, found %s", what,
                        scn_tok_desc(&P->tok, buf, sizeof buf));
    }
    if (P->tok.len >= SCN_NAME_MAX) {
        return scn_fail(P, P->tok.line, "name %s is too long (at most %d characters)",
                        scn_tok_desc(&P->tok, buf, sizeof buf), SCN_NAME_MAX - 1);
    }
    if (scn_is_keyword(&P->tok)) {
        return scn_fail(P, P->tok.line, "%s is a keyword and cannot be a name",
                        scn_tok_desc(&P->tok, buf, sizeof buf));
    }
    *name = P->tok;
    scn_next(P);
    return true;
}

static const ScnDecl *scn_lookup(const ScnParser *P, const char *text, size_t len)
{
    for (unsigned i = 0; i < P->decl_count; i++) {
        const ScnDecl *d = &P->decls[i];

        if (strlen(d->name) == len && memcmp(d->name, text, len) == 0) {
            return d;
        }
    }
    return NULL;
}

/* Enter a name into the namespace and its table; returns its name slot. */
static char *scn_declare(ScnParser *P, const ScnTok *name, unsigned kind)
{
    Scenario *s = P->s;
    const ScnDecl *old = scn_lookup(P, name->text, name->len);
    unsigned count = kind == SCN_THREAD_KIND ? s->thread_count : s->object_count[kind];
    unsigned limit = kind == SCN_THREAD_KIND ? SCN_THREADS_MAX
                   : kind == SCN_OBJ_IOTHREAD ? SCN_IOTHREADS_MAX
                   : SCN_OBJECTS_MAX;
    char *slot;

    if (old) {
        scn_fail(P, name->line, "name '%.*s' declared twice (first on line %" PRIu32 ")",
                 (int)name->len, name->text, old->line);
        return NULL;
    }
    if (count >= limit) {
        scn_fail(P, name->line, "too many %ss (limit %u)", scn_kind_name(kind), limit);
        return NULL;
    }
    g_assert(name->len < SCN_NAME_MAX && P->decl_count < G_N_ELEMENTS(P->decls));
    if (kind == SCN_THREAD_KIND) {
        slot = s->threads[s->thread_count++].name;
    } else {
        slot = s->objects[kind][s->object_count[kind]++].name;
    }
    memcpy(slot, name->text, name->len);
    slot[name->len] = '\0';
    P->decls[P->decl_count++] = (ScnDecl){
        .name = slot, .kind = kind, .index = count, .line = name->line,
    };
    return slot;
}

/* ---- numbers ------------------------------------------------------------- */

/* DIGITS of a number token into *value, or false on overflow. */
static bool scn_digits(const char *p, const char *end, uint64_t *value, const char **stop)
{
    uint64_t v = 0;

    for (; p < end && scn_is_digit(*p); p++) {
        unsigned d = (unsigned)(*p - '0');

        if (v > (UINT64_MAX - d) / 10) {
            return false;
        }
        v = v * 10 + d;
    }
    *value = v;
    *stop = p;
    return true;
}

/* DURATION := ['-'] DIGITS ['ns'|'us'|'ms'|'s'], in ns, within int64_t. */
static bool scn_duration(ScnParser *P, const char *what, int64_t *out)
{
    static const struct { const char *unit; uint64_t scale; } units[] = {
        { "", 1 }, { "ns", 1 }, { "us", 1000 }, { "ms", 1000000 }, { "s", 1000000000 },
    };
    const ScnTok *t = &P->tok;
    const char *end = t->text + t->len;
    const char *p = t->text;
    bool negative;
    uint64_t mag, limit;
    char buf[64];

    if (t->kind != TOK_NUMBER) {
        return scn_fail(P, t->line, "'%s' needs a duration such as 10ms, found %s",
                        what, scn_tok_desc(t, buf, sizeof buf));
    }
    negative = *p == '-';
    p += negative;
    limit = negative ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    if (!scn_digits(p, end, &mag, &p)) {
        return scn_fail(P, t->line, "duration %s is out of range",
                        scn_tok_desc(t, buf, sizeof buf));
    }
    for (size_t i = 0; i < G_N_ELEMENTS(units); i++) {
        size_t n = strlen(units[i].unit);

        if ((size_t)(end - p) != n || memcmp(p, units[i].unit, n) != 0) {
            continue;
        }
        if (mag > limit / units[i].scale) {
            return scn_fail(P, t->line, "duration %s is out of range",
                            scn_tok_desc(t, buf, sizeof buf));
        }
        mag *= units[i].scale;
        /* -(2^63) is INT64_MIN; negate in unsigned arithmetic to reach it. */
        *out = negative ? (int64_t)(0 - mag) : (int64_t)mag;
        scn_next(P);
        return true;
    }
    return scn_fail(P, t->line, "bad duration %s (a whole number with ns, us, ms or s)",
                    scn_tok_desc(t, buf, sizeof buf));
}

/* COUNT := DIGITS, >= 1. */
static bool scn_count(ScnParser *P, const char *what, int64_t *out)
{
    const ScnTok *t = &P->tok;
    const char *stop;
    uint64_t v;
    char buf[64];

    if (t->text[0] == '-') {
        return scn_fail(P, t->line, "'%s' count must be at least 1", what);
    }
    if (!scn_digits(t->text, t->text + t->len, &v, &stop) || v > INT64_MAX) {
        return scn_fail(P, t->line, "count %s is out of range",
                        scn_tok_desc(t, buf, sizeof buf));
    }
    if (stop != t->text + t->len) {
        return scn_fail(P, t->line, "bad count %s for '%s' (a whole number >= 1)",
                        scn_tok_desc(t, buf, sizeof buf), what);
    }
    if (v < 1) {
        return scn_fail(P, t->line, "'%s' count must be at least 1", what);
    }
    *out = (int64_t)v;
    scn_next(P);
    return true;
}

/* ---- operations and bodies ------------------------------------------------- */

static bool scn_is_statement_word(const ScnTok *t)
{
    return scn_tok_is(t, "bh") || scn_tok_is(t, "fd") || scn_tok_is(t, "timer") ||
           scn_tok_is(t, "job") || scn_tok_is(t, "signal") || scn_tok_is(t, "thread") ||
           scn_tok_is(t, "faults") || scn_tok_is(t, "main_loop") ||
           scn_tok_is(t, "iothread");
}

/* The arguments after an operation's keyword; the op is ops[op_count]. */
/* The clock an operation names, into its arg. */
static bool scn_op_clock(ScnParser *P, ScnOp *op, const char *what)
{
    char buf[64];

    for (size_t i = 0; i < G_N_ELEMENTS(scn_clocks); i++) {
        if (scn_tok_is(&P->tok, scn_clocks[i])) {
            op->arg = (int64_t)i;
            scn_next(P);
            return true;
        }
    }
    return scn_fail(P, P->tok.line, "'%s' needs a clock (realtime, virtual, "
                    "host or virtual_rt), found %s", what,
                    scn_tok_desc(&P->tok, buf, sizeof buf));
}

static bool scn_op_args(ScnParser *P, ScnOp *op, const char *what)
{
    ScnRef *ref = &P->refs[P->s->op_count];
    ScnTok name;

    if (op->kind == SCN_OP_AIO_WAIT_WHILE && scn_tok_is(&P->tok, "home")) {
        op->arg = 1;        /* the home context: a local wait */
        op->obj_kind = SCN_OBJ_IOTHREAD;
        scn_next(P);
        P->s->uses_main_loop = true;
        return true;
    }
    if (scn_op_object_kind(op->kind) != SCN_OBJ_KIND_MAX || op->kind == SCN_OP_WAIT) {
        if (!scn_expect_name(P, what, &name)) {
            return false;
        }
        *ref = (ScnRef){ .text = name.text, .len = name.len, .line = name.line };
    }
    switch (op->kind) {
    case SCN_OP_TIMER_MOD:
    case SCN_OP_TIMER_ANTICIPATE:
    case SCN_OP_TIMER_MOD_AT:
    case SCN_OP_HOST_JUMP:
    case SCN_OP_POLL_PARAMS:       /* negative: refused, checked */
        return scn_duration(P, what, &op->arg);
    case SCN_OP_KILL:
        P->s->uses_main_loop = true;
        return true;
    case SCN_OP_POOL_SIZE:
        if (P->tok.kind != TOK_NUMBER) {
            char buf[64];

            return scn_fail(P, op->line, "'pool_size' needs a number of "
                            "workers, found %s",
                            scn_tok_desc(&P->tok, buf, sizeof buf));
        }
        if (P->tok.len == 1 && P->tok.text[0] == '0') {   /* refused: checked */
            op->arg = 0;
            scn_next(P);
            return true;
        }
        if (!scn_count(P, what, &op->arg)) {
            return false;
        }
        return op->arg <= SCN_POOL_SIZE_MAX ||
               scn_fail(P, op->line, "'pool_size' is at most %d workers",
                        SCN_POOL_SIZE_MAX);
    case SCN_OP_CO_SCHEDULE:
        if (!scn_tok_is(&P->tok, "on")) {
            return true;    /* the scenario's own context */
        }
        scn_next(P);
        /* fall through */
    case SCN_OP_CO_RESCHEDULE:
        if (scn_tok_is(&P->tok, "home")) {      /* reserved: no object */
            name = P->tok;
            scn_next(P);
        } else if (!scn_expect_name(P, what, &name)) {
            return false;
        }
        P->ctx_refs[P->s->op_count] = (ScnRef){
            .text = name.text, .len = name.len, .line = name.line,
        };
        return true;
    case SCN_OP_CO_SLEEP:
        if (!scn_duration(P, what, &op->arg)) {
            return false;
        }
        return op->arg >= 0 ||
               scn_fail(P, op->line, "'co_sleep' needs a duration >= 0");
    case SCN_OP_ADVANCE:
        if (!scn_duration(P, what, &op->arg)) {
            return false;
        }
        return op->arg >= 0 ||
               scn_fail(P, op->line, "'advance' needs a duration >= 0 (time only moves forward)");
    case SCN_OP_WAIT:
        op->arg = 1;
        return P->tok.kind != TOK_NUMBER || scn_count(P, what, &op->arg);
    case SCN_OP_MAIN_LOOP_WAIT:
        P->s->uses_main_loop = true;
        if (scn_tok_is(&P->tok, "nonblocking")) {
            op->arg = 1;
            scn_next(P);
        }
        return true;
    case SCN_OP_NOTIFY_EVENT:
    case SCN_OP_AIO_WAIT_WHILE:     /* a remote waiter polls the main context */
        P->s->uses_main_loop = true;
        return true;
    case SCN_OP_CO_WAIT:
    case SCN_OP_CO_ENTER_NEXT:
        for (int lock = SCN_LOCK_NONE + 1; lock < SCN_LOCKS; lock++) {
            if (scn_tok_is(&P->tok, scn_locks[lock])) {
                op->arg = lock;
                scn_next(P);
                break;
            }
        }
        return true;
    case SCN_OP_RUN_TIMERS:
    case SCN_OP_CLOCK_CHECK:
        P->s->uses_main_loop = true;    /* main_loop_tlg's timers */
        /* fall through */
    case SCN_OP_CLOCK_ENABLE:
    case SCN_OP_CLOCK_DISABLE:
        return scn_op_clock(P, op, what);
    default:
        return true;
    }
}

/* One operation, the current token being its keyword. */
static bool scn_parse_op(ScnParser *P, uint32_t open_line)
{
    Scenario *s = P->s;
    char buf[64];
    unsigned kind;

    for (kind = 0; kind < SCN_OP_KIND_MAX; kind++) {
        if (scn_tok_is(&P->tok, scn_op_name(kind))) {
            break;
        }
    }
    if (kind == SCN_OP_KIND_MAX) {
        if (scn_is_statement_word(&P->tok)) {
            return scn_fail(P, P->tok.line, "%s cannot appear inside a body "
                            "(is the '}' for the '{' on line %" PRIu32 " missing?)",
                            scn_tok_desc(&P->tok, buf, sizeof buf), open_line);
        }
        return scn_fail(P, P->tok.line, "unknown operation %s",
                        scn_tok_desc(&P->tok, buf, sizeof buf));
    }
    if (s->op_count >= SCN_OPS_MAX) {
        return scn_fail(P, P->tok.line, "too many operations (limit %d)", SCN_OPS_MAX);
    }
    s->ops[s->op_count] = (ScnOp){ .kind = kind, .line = P->tok.line };
    scn_next(P);
    if (!scn_op_args(P, &s->ops[s->op_count], scn_op_name(kind))) {
        return false;
    }
    s->op_count++;
    return true;
}

/* body := '{' [ op { (';'|NEWLINE) op } ] '}' — separators may repeat. */
static bool scn_parse_body(ScnParser *P, ScnBody *body)
{
    uint32_t open_line = P->tok.line;
    char buf[64];

    g_assert(P->tok.kind == TOK_LBRACE);
    scn_next(P);
    body->first = P->s->op_count;
    for (;;) {
        switch (P->tok.kind) {
        case TOK_NEWLINE:
        case TOK_SEMI:
            scn_next(P);
            break;
        case TOK_RBRACE:
            body->count = P->s->op_count - body->first;
            scn_next(P);
            return true;
        case TOK_EOF:
            return scn_fail(P, open_line, "unterminated body: '{' on line %" PRIu32
                            " has no '}'", open_line);
        case TOK_WORD:
            if (!scn_parse_op(P, open_line)) {
                return false;
            }
            if (P->tok.kind != TOK_NEWLINE && P->tok.kind != TOK_SEMI &&
                P->tok.kind != TOK_RBRACE && P->tok.kind != TOK_EOF) {
                return scn_fail(P, P->tok.line, "expected ';' or end of line after "
                                "'%s', found %s",
                                scn_op_name(P->s->ops[P->s->op_count - 1].kind),
                                scn_tok_desc(&P->tok, buf, sizeof buf));
            }
            break;
        default:
            return scn_fail_found(P, "an operation or '}'");
        }
    }
}

/* ---- statements ---------------------------------------------------------- */

static bool scn_end_statement(ScnParser *P)
{
    if (P->tok.kind == TOK_NEWLINE) {
        scn_next(P);
        return true;
    }
    if (P->tok.kind == TOK_EOF) {
        return true;
    }
    return scn_fail_found(P, "end of line (one statement a line)");
}

static bool scn_parse_faults(ScnParser *P)
{
    uint32_t line = P->tok.line;
    char buf[64];

    if (P->faults_line) {
        return scn_fail(P, line, "option 'faults' given twice (first on line %" PRIu32 ")",
                        P->faults_line);
    }
    P->faults_line = line;
    scn_next(P);
    for (;;) {
        size_t i;

        for (i = 0; i < G_N_ELEMENTS(scn_faults); i++) {
            if (scn_tok_is(&P->tok, scn_faults[i].name)) {
                break;
            }
        }
        if (i == G_N_ELEMENTS(scn_faults)) {
            return scn_fail(P, P->tok.line, "expected a fault (none, spurious, eintr, "
                            "early, eagain, hostjump, refuse, fdcreate, readfail, shortread or "
                            "all), found %s",
                            scn_tok_desc(&P->tok, buf, sizeof buf));
        }
        P->s->faults |= scn_faults[i].mask;
        scn_next(P);
        if (P->tok.kind != TOK_COMMA) {
            return scn_end_statement(P);
        }
        scn_next(P);
    }
}

static bool scn_parse_main_loop(ScnParser *P)
{
    if (P->main_loop_line) {
        return scn_fail(P, P->tok.line, "option 'main_loop' given twice (first on line %"
                        PRIu32 ")", P->main_loop_line);
    }
    P->main_loop_line = P->tok.line;
    P->s->uses_main_loop = true;
    scn_next(P);
    return scn_end_statement(P);
}

static bool scn_parse_clock(ScnParser *P, ScnObject *o)
{
    char buf[64];

    for (size_t i = 0; i < G_N_ELEMENTS(scn_clocks); i++) {
        if (scn_tok_is(&P->tok, scn_clocks[i])) {
            o->clock = (uint8_t)i;
            scn_next(P);
            return true;
        }
    }
    return scn_fail(P, P->tok.line, "timer '%s' needs a clock (realtime, virtual, host "
                    "or virtual_rt), found %s", o->name,
                    scn_tok_desc(&P->tok, buf, sizeof buf));
}

/* CLOCK ['scale' UNIT] ['main_loop'], after a timer's name. */
static bool scn_parse_timer_options(ScnParser *P, ScnObject *o)
{
    char buf[64];

    if (!scn_parse_clock(P, o)) {
        return false;
    }
    if (scn_tok_is(&P->tok, "scale")) {
        size_t i;

        scn_next(P);
        for (i = 0; i < G_N_ELEMENTS(scn_scales); i++) {
            if (scn_tok_is(&P->tok, scn_scales[i])) {
                break;
            }
        }
        if (i == G_N_ELEMENTS(scn_scales)) {
            return scn_fail(P, P->tok.line, "'scale' needs ns, us or ms, found %s",
                            scn_tok_desc(&P->tok, buf, sizeof buf));
        }
        o->scale = (uint8_t)i;
        scn_next(P);
    }
    if (scn_tok_is(&P->tok, "main_loop")) {
        o->main_timer = true;
        P->s->uses_main_loop = true;    /* main_loop_tlg */
        scn_next(P);
    }
    return true;
}

static bool scn_parse_signal(ScnParser *P, ScnObject *o)
{
    char buf[64];

    for (size_t i = 0; i < G_N_ELEMENTS(scn_signals); i++) {
        if (scn_tok_is(&P->tok, scn_signals[i])) {
            o->signal = (uint8_t)i;
            P->s->uses_main_loop = true;    /* the signalfd is the main loop's */
            scn_next(P);
            return true;
        }
    }
    return scn_fail(P, P->tok.line, "signal '%s' needs sigio, sigalrm or sigbus, "
                    "found %s", o->name, scn_tok_desc(&P->tok, buf, sizeof buf));
}

/* 'guard' N, 1 <= N <= SCN_GUARDS_MAX: BHs with the same N share a guard. */
static bool scn_parse_guard(ScnParser *P, ScnObject *o)
{
    const char *stop;
    uint64_t v;
    char buf[64];

    scn_next(P);
    if (P->tok.kind != TOK_NUMBER || P->tok.text[0] == '-' ||
        !scn_digits(P->tok.text, P->tok.text + P->tok.len, &v, &stop) ||
        stop != P->tok.text + P->tok.len || v < 1 || v > SCN_GUARDS_MAX) {
        return scn_fail(P, P->tok.line, "'guard' needs a number from 1 to %d, "
                        "found %s", SCN_GUARDS_MAX,
                        scn_tok_desc(&P->tok, buf, sizeof buf));
    }
    o->guard = (uint8_t)v;
    scn_next(P);
    return true;
}

/* decl := KIND NAME [CLOCK|SIGNAL] ['guard' N] ['poll'] [body] ['alt' body];
 * the current token is KIND. */
static bool scn_parse_decl(ScnParser *P, ScnObjKind kind)
{
    Scenario *s = P->s;
    const char *what = scn_obj_kind_name(kind);
    ScnObject *o;
    ScnTok name;

    scn_next(P);
    if (!scn_expect_name(P, what, &name) || !scn_declare(P, &name, kind)) {
        return false;
    }
    o = &s->objects[kind][s->object_count[kind] - 1];
    o->body.first = s->op_count;
    if (kind == SCN_OBJ_TIMER && !scn_parse_timer_options(P, o)) {
        return false;
    }
    if (kind == SCN_OBJ_SIGNAL && !scn_parse_signal(P, o)) {
        return false;
    }
    if (kind == SCN_OBJ_BH && scn_tok_is(&P->tok, "guard") &&
        !scn_parse_guard(P, o)) {
        return false;
    }
    if (kind == SCN_OBJ_FD && scn_tok_is(&P->tok, "poll")) {
        o->poll = true;
        scn_next(P);
        if (scn_tok_is(&P->tok, "suppress")) {
            o->suppress = true;
            scn_next(P);
        }
    }
    if (kind == SCN_OBJ_FD && scn_tok_is(&P->tok, "suppress")) {
        return scn_fail(P, P->tok.line, "'suppress' needs 'poll' before it "
                        "(fd %s poll suppress): only a polled handler has "
                        "io_poll_begin/io_poll_end", o->name);
    }
    if (kind == SCN_OBJ_FD && scn_tok_is(&P->tok, "write")) {
        o->write = true;
        scn_next(P);
    }
    if (kind == SCN_OBJ_JOB && scn_tok_is(&P->tok, "nocb")) {
        o->nocb = true;
        scn_next(P);
    }
    if (kind == SCN_OBJ_IOTHREAD && P->tok.kind == TOK_LBRACE) {
        return scn_fail(P, P->tok.line, "iothread '%s' has no body: it only "
                        "polls its own context (name it in 'co_schedule C on "
                        "%s' or 'co_reschedule %s')", o->name, o->name,
                        o->name);
    }
    if (P->tok.kind == TOK_LBRACE && !scn_parse_body(P, &o->body)) {
        return false;
    }
    if (scn_tok_is(&P->tok, "alt")) {
        if (kind != SCN_OBJ_FD) {
            return scn_fail(P, P->tok.line, "only an fd has an 'alt' body; '%s' is %s %s",
                            o->name, scn_article(kind), what);
        }
        scn_next(P);
        if (P->tok.kind != TOK_LBRACE) {
            return scn_fail_found(P, "'{' after 'alt'");
        }
        if (!scn_parse_body(P, &o->alt_body)) {
            return false;
        }
    }
    return scn_end_statement(P);
}

static bool scn_parse_thread(ScnParser *P)
{
    ScnThread *t;
    ScnTok name;
    char buf[64];

    scn_next(P);
    if (!scn_expect_name(P, "thread", &name) || !scn_declare(P, &name, SCN_THREAD_KIND)) {
        return false;
    }
    t = &P->s->threads[P->s->thread_count - 1];
    if (P->tok.kind != TOK_LBRACE) {
        return scn_fail(P, P->tok.line, "thread '%s' needs a body on the same line, "
                        "'{ ... }', found %s", t->name,
                        scn_tok_desc(&P->tok, buf, sizeof buf));
    }
    return scn_parse_body(P, &t->body) && scn_end_statement(P);
}

static bool scn_parse_statement(ScnParser *P)
{
    char buf[64];

    if (P->tok.kind == TOK_LBRACE) {
        return scn_fail(P, P->tok.line, "unexpected '{' (a body must start on the line "
                        "of its declaration)");
    }
    if (P->tok.kind != TOK_WORD) {
        return scn_fail_found(P, "a declaration, a thread or an option");
    }
    if (scn_tok_is(&P->tok, "faults")) {
        return scn_parse_faults(P);
    }
    if (scn_tok_is(&P->tok, "main_loop")) {
        return scn_parse_main_loop(P);
    }
    if (scn_tok_is(&P->tok, "thread")) {
        return scn_parse_thread(P);
    }
    for (unsigned k = 0; k < SCN_OBJ_KIND_MAX; k++) {
        if (scn_tok_is(&P->tok, scn_obj_kind_name(k))) {
            return scn_parse_decl(P, k);
        }
    }
    for (unsigned k = 0; k < SCN_OP_KIND_MAX; k++) {
        if (scn_tok_is(&P->tok, scn_op_name(k))) {
            return scn_fail(P, P->tok.line, "'%s' is an operation; operations go inside "
                            "a thread's or a callback's body", scn_op_name(k));
        }
    }
    return scn_fail(P, P->tok.line, "unknown statement %s (expected faults, main_loop, "
                    "bh, oneshot, fd, timer, job, signal, coroutine, iothread "
                    "or thread)",
                    scn_tok_desc(&P->tok, buf, sizeof buf));
}

/* ---- resolution ------------------------------------------------------------- */

/* The context a coroutine op names: 'home' or an iothread, into its arg. */
static bool scn_resolve_context(ScnParser *P, const ScnRef *ref, ScnOp *op)
{
    const ScnDecl *d;

    if (ref->len == 4 && memcmp(ref->text, "home", 4) == 0) {
        op->arg = SCN_CTX_HOME;
        return true;
    }
    d = scn_lookup(P, ref->text, ref->len);
    if (!d) {
        return scn_fail(P, ref->line, "unknown name '%.*s' (a context is "
                        "'home' or an iothread)", (int)ref->len, ref->text);
    }
    if (d->kind != SCN_OBJ_IOTHREAD) {
        return scn_fail(P, ref->line, "'%s' needs a context ('home' or an "
                        "iothread), but '%s' is %s %s", scn_op_name(op->kind),
                        d->name, scn_article(d->kind), scn_kind_name(d->kind));
    }
    op->arg = SCN_CTX_HOME + 1 + (int64_t)d->index;
    return true;
}

/* Give every op its object, now that every declaration is known. */
static bool scn_resolve(ScnParser *P)
{
    Scenario *s = P->s;

    for (uint32_t i = 0; i < s->op_count; i++) {
        const ScnRef *ref = &P->refs[i];
        ScnOp *op = &s->ops[i];
        ScnObjKind want = scn_op_object_kind(op->kind);
        const ScnDecl *d;

        if (P->ctx_refs[i].text && !scn_resolve_context(P, &P->ctx_refs[i], op)) {
            return false;
        }
        if (!ref->text) {
            continue;       /* no object: obj and obj_kind stay 0 */
        }
        d = scn_lookup(P, ref->text, ref->len);
        if (!d) {
            return scn_fail(P, ref->line, "unknown name '%.*s'", (int)ref->len, ref->text);
        }
        if (op->kind == SCN_OP_WAIT &&
            (d->kind == SCN_THREAD_KIND || d->kind == SCN_OBJ_IOTHREAD)) {
            return scn_fail(P, ref->line, "'wait' needs a bh, oneshot, fd, timer, job "
                            "or coroutine, but '%s' is %s %s", d->name,
                            scn_article(d->kind), scn_kind_name(d->kind));
        }
        if (op->kind != SCN_OP_WAIT && d->kind != want) {
            return scn_fail(P, ref->line, "'%s' needs %s %s, but '%s' is %s %s",
                            scn_op_name(op->kind), scn_article(want), scn_kind_name(want),
                            d->name, scn_article(d->kind), scn_kind_name(d->kind));
        }
        op->obj = (uint8_t)d->index;
        op->obj_kind = (uint8_t)d->kind;
    }
    return true;
}

bool scn_parse(const char *text, size_t len, const char *filename,
               Scenario *out, char *err, size_t err_len)
{
    ScnParser *P = g_new0(ScnParser, 1);
    bool ok = true;
    const char *why;

    memset(out, 0, sizeof *out);
    if (err && err_len) {
        err[0] = '\0';
    }
    P->p = text ? text : "";
    P->end = P->p + (text ? len : 0);
    P->line = 1;
    P->filename = filename ? filename : "<input>";
    P->err = err;
    P->err_len = err_len;
    P->s = out;

    scn_next(P);
    while (ok && P->tok.kind != TOK_EOF) {
        if (P->tok.kind == TOK_NEWLINE) {
            scn_next(P);
        } else {
            ok = scn_parse_statement(P);
        }
    }
    ok = ok && scn_resolve(P);
    if (ok && out->thread_count == 0) {
        /* The last line, not the empty one after a final newline. */
        uint32_t last = P->line - (P->line > 1 && P->end[-1] == '\n');

        ok = scn_fail(P, last, "no thread: a scenario needs at least one "
                      "'thread NAME { ... }'");
    }
    g_free(P);
    if (!ok) {
        memset(out, 0, sizeof *out);
        return false;
    }
    /* Everything the grammar accepts is a valid IR; anything else is our bug. */
    why = scn_validate(out);
    if (why) {
        fprintf(stderr, "scn_parse: produced an invalid scenario: %s\n", why);
        abort();
    }
    return true;
}
