/* CWL expressions: parameter references $(inputs.x.path) always, and with
 * InlineJavascriptRequirement JavaScript $(...) and ${...} through duktape,
 * each evaluation bounded in time and memory. */
#ifndef CWLD_EXPR_H
#define CWLD_EXPR_H
#include <jansson.h>
#include "cwld/err.h"

#define EXPR_TIME_LIMIT_MS 5000
#define EXPR_HEAP_LIMIT (64u * 1024 * 1024)

struct expr_ctx;

/* js: non-zero when InlineJavascriptRequirement is in force; lib (borrowed,
 * may be NULL) is its expressionLib array of strings, evaluated once. */
struct expr_ctx *expr_ctx_new(int js, const json_t *lib, struct cwld_err *err);
void expr_ctx_free(struct expr_ctx *ctx); /* NULL does nothing */

/* Overrides EXPR_TIME_LIMIT_MS and EXPR_HEAP_LIMIT for later evaluations
 * (tests use small limits). JavaScript runs in a forked child: the parent
 * kills it when time_ms passes; a counting allocator refuses duktape
 * allocations beyond heap_bytes. Either overrun is an error naming the
 * expression. */
void expr_ctx_set_limits(struct expr_ctx *ctx, unsigned time_ms, size_t heap_bytes);

/* Non-zero when s contains an unescaped $( or ${. */
int expr_has_expression(const char *s);

/* Evaluates a string per the spec: a string that is exactly one expression
 * yields that expression's JSON value (any type); otherwise each expression
 * is interpolated (objects/arrays as JSON text, strings as-is) and "\$(" is
 * a literal. inputs, self, runtime are borrowed (self/runtime may be NULL).
 * Returns a new reference or NULL with err naming the expression. */
json_t *expr_eval(struct expr_ctx *ctx, const char *text, const json_t *inputs,
    const json_t *self, const json_t *runtime, struct cwld_err *err);

/* As expr_eval with flags. expr_eval strips leading and trailing whitespace
 * of a string that contains an expression before evaluating it (as cwltool
 * does, so "$(x)\n" from a YAML block keeps its type); EXPR_KEEP_SPACE keeps
 * it, for InitialWorkDirRequirement entries ("$(x)\n" is then a string). */
#define EXPR_KEEP_SPACE 0x1
json_t *expr_eval_flags(struct expr_ctx *ctx, const char *text, const json_t *inputs,
    const json_t *self, const json_t *runtime, int flags, struct cwld_err *err);

/* The shortest decimal text that reads back as d, never in scientific
 * notation, with ".0" on integral values whose shortest form has no
 * exponent ("0.1", "2.0", "0.00001", "123000" for 1.23e5,
 * "1000000000000000000000" for 1e21): how CWL tools print a float. New
 * string. */
char *expr_real_text(double d);

/* JSON text of v as interpolated into strings: Python json.dumps layout
 * (", ", ": "), keys sorted, reals through expr_real_text (non-finite ones
 * as null). New string. */
char *expr_json_text(const json_t *v);
/* As expr_json_text, one item a line indented by indent spaces a level
 * (0: on one line): for printing output objects. New string. */
char *expr_json_text_indent(const json_t *v, int indent);

/* As expr_eval when v is a string; otherwise returns a new reference to v. */
json_t *expr_eval_value(struct expr_ctx *ctx, const json_t *v, const json_t *inputs,
    const json_t *self, const json_t *runtime, struct cwld_err *err);

#endif
