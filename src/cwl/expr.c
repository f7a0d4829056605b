/* CWL expressions: the spec's $(...)/${...} scanner with its backslash
 * escapes, parameter references resolved here in C, and JavaScript run by
 * duktape. Debian's duktape has no execution-timeout hook, so each JavaScript
 * evaluation runs in a forked child that the parent kills when the time limit
 * passes; a counting allocator caps the duktape heap. What values reach an
 * expression (inputs, self, runtime) is the caller's business. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <duktape.h>

#include "cwld/expr.h"
#include "cwld/xmalloc.h"

struct expr_ctx {
	int js;
	duk_context *duk;  /* heap with expressionLib loaded; NULL without js */
	size_t heap_used;  /* bytes duktape holds through expr_alloc */
	size_t heap_limit;
	unsigned time_ms;
	int in_child;      /* set in the forked evaluator */
	int child_fd;      /* its answer pipe */
};

/* One JavaScript run in the child: either the expressionLib check (lib set)
 * or one expression. */
struct expr_job {
	const json_t *lib;
	size_t lib_index;
	const char *code;
	size_t len;
	const json_t *inputs, *self, *runtime;
};

/* A growing byte buffer for interpolation and pipe reads. */
struct expr_buf {
	char *p;
	size_t len, cap;
};

enum {
	EXPR_S_DEFAULT, EXPR_S_DOLLAR, EXPR_S_PAREN, EXPR_S_BRACE,
	EXPR_S_SQUOTE, EXPR_S_DQUOTE, EXPR_S_BACKSLASH,
};

#define EXPR_HDR _Alignof(max_align_t)
#define EXPR_SHOW 160 /* bytes of an expression quoted in messages */

static void
expr_buf_add(struct expr_buf *b, const char *s, size_t n)
{
	if (n > SIZE_MAX - b->len - 1)
		abort();
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 64;

		while (cap < b->len + n + 1)
			cap = cap > SIZE_MAX / 2 ? b->len + n + 1 : cap * 2;
		b->p = xreallocarray(b->p, cap, 1);
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

/* Formats the expression for messages, shortened and on one line. */
static void
expr_show(const char *s, size_t n, char *out, size_t outlen)
{
	size_t i, o = 0;

	for (i = 0; i < n && o + 4 < outlen; i++) {
		if (i == EXPR_SHOW) {
			memcpy(out + o, "...", 3);
			o += 3;
			break;
		}
		out[o++] = (s[i] == '\n' || s[i] == '\r' || s[i] == '\t') ? ' ' : s[i];
	}
	out[o] = '\0';
}

/* --- the counting allocator duktape uses ------------------------------ */

static void *
expr_alloc(void *udata, duk_size_t size)
{
	struct expr_ctx *ctx = udata;
	size_t *p;

	if (size > ctx->heap_limit - ctx->heap_used || size > SIZE_MAX - EXPR_HDR)
		return NULL;
	if ((p = malloc(size + EXPR_HDR)) == NULL)
		return NULL;
	*p = size;
	ctx->heap_used += size;
	return (char *)p + EXPR_HDR;
}

static void
expr_free(void *udata, void *ptr)
{
	struct expr_ctx *ctx = udata;
	size_t *p;

	if (ptr == NULL)
		return;
	p = (size_t *)(void *)((char *)ptr - EXPR_HDR);
	ctx->heap_used -= *p;
	free(p);
}

static void *
expr_realloc(void *udata, void *ptr, duk_size_t size)
{
	struct expr_ctx *ctx = udata;
	size_t *p, *np, old;

	if (ptr == NULL)
		return expr_alloc(udata, size);
	p = (size_t *)(void *)((char *)ptr - EXPR_HDR);
	old = *p;
	if (size > old && size - old > ctx->heap_limit - ctx->heap_used)
		return NULL;
	if (size > SIZE_MAX - EXPR_HDR)
		return NULL;
	if ((np = realloc(p, size + EXPR_HDR)) == NULL)
		return NULL;
	*np = size;
	ctx->heap_used = ctx->heap_used - old + size;
	return (char *)np + EXPR_HDR;
}

/* Only reached for an error outside a protected call, which this module
 * never makes; in the child it ends the evaluation, never the daemon. */
static void
expr_fatal(void *udata, const char *msg)
{
	struct expr_ctx *ctx = udata;
	static const char tag[] = "efatal javascript error: ";

	if (ctx != NULL && ctx->in_child) {
		if (write(ctx->child_fd, tag, sizeof tag - 1) < 0 ||
		    write(ctx->child_fd, msg, strlen(msg)) < 0)
			_exit(4);
		_exit(4);
	}
	fprintf(stderr, "cwld: duktape fatal error: %s\n", msg);
	abort();
}

/* --- scanning --------------------------------------------------------- */

/* The spec's scanner (cwltool's): finds the next $(...), ${...} or
 * top-level backslash pair in s[0..n). Returns 1 with [*start, *end) set, 0
 * when there is none, -1 for an unfinished $( or ${ (start set). */
static int
expr_scan(const char *s, size_t n, size_t *start, size_t *end)
{
	unsigned char *stack;
	size_t i = 0, sp = 0, st = 0;
	int rc = 0;

	stack = xmalloc(n + 2);
	stack[0] = EXPR_S_DEFAULT;
	while (i < n) {
		unsigned char state = stack[sp];
		char c = s[i];

		switch (state) {
		case EXPR_S_DEFAULT:
			if (c == '$')
				stack[++sp] = EXPR_S_DOLLAR;
			else if (c == '\\')
				stack[++sp] = EXPR_S_BACKSLASH;
			break;
		case EXPR_S_BACKSLASH:
			sp--;
			if (stack[sp] == EXPR_S_DEFAULT) {
				*start = i - 1;
				*end = i + 1;
				rc = 1;
				goto out;
			}
			break;
		case EXPR_S_DOLLAR:
			if (c == '(') {
				st = i - 1;
				stack[++sp] = EXPR_S_PAREN;
			} else if (c == '{') {
				st = i - 1;
				stack[++sp] = EXPR_S_BRACE;
			} else {
				sp--;
				continue; /* look at c again in the outer state */
			}
			break;
		case EXPR_S_PAREN:
		case EXPR_S_BRACE:
			if (c == (state == EXPR_S_PAREN ? '(' : '{'))
				stack[++sp] = state;
			else if (c == (state == EXPR_S_PAREN ? ')' : '}')) {
				sp--;
				if (stack[sp] == EXPR_S_DOLLAR) {
					*start = st;
					*end = i + 1;
					rc = 1;
					goto out;
				}
			} else if (c == '\'')
				stack[++sp] = EXPR_S_SQUOTE;
			else if (c == '"')
				stack[++sp] = EXPR_S_DQUOTE;
			break;
		case EXPR_S_SQUOTE:
		case EXPR_S_DQUOTE:
			if (c == (state == EXPR_S_SQUOTE ? '\'' : '"'))
				sp--;
			else if (c == '\\')
				stack[++sp] = EXPR_S_BACKSLASH;
			break;
		}
		i++;
	}
	if (sp > 1 || (sp == 1 && stack[1] != EXPR_S_BACKSLASH &&
	    stack[1] != EXPR_S_DOLLAR)) {
		*start = st;
		rc = -1;
	}
out:
	free(stack);
	return rc;
}

int
expr_has_expression(const char *s)
{
	size_t n, start, end;
	int rc;

	if (s == NULL)
		return 0;
	n = strlen(s);
	while ((rc = expr_scan(s, n, &start, &end)) == 1) {
		if (s[start] == '$')
			return 1;
		if (end < n && s[start + 1] == '$' && (s[end] == '(' || s[end] == '{'))
			end++; /* "\$(" is a literal */
		s += end;
		n -= end;
	}
	return rc == -1; /* an unfinished $( still needs evaluating (and fails) */
}

/* --- parameter references --------------------------------------------- */

static size_t
expr_symbol_len(const char *s, size_t n)
{
	size_t i = 0;

	while (i < n && ((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
	    (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || (unsigned char)s[i] >= 0x80))
		i++;
	return i;
}

/* Length of a string in UTF-16 code units, as JavaScript counts it. */
static size_t
expr_utf16_len(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = 0;

	for (; *p; p++) {
		if ((*p & 0xc0) == 0x80)
			continue;
		n += (*p >= 0xf0) ? 2 : 1;
	}
	return n;
}

/* Resolves a parameter reference (the text inside $( )). Returns 1 with
 * *out a new reference, 0 when the text is not parameter reference syntax,
 * -1 when it is but does not resolve (err says why). */
static int
expr_ref(const char *s, size_t n, const json_t *inputs, const json_t *self,
    const json_t *runtime, json_t **out, struct cwld_err *err)
{
	const json_t *cur = NULL, *v;
	char key[512];
	size_t i, klen;
	int pass;

	*out = NULL;
	/* pass 0 checks the grammar, pass 1 resolves */
	for (pass = 0; pass < 2; pass++) {
		klen = expr_symbol_len(s, n);
		if (klen == 0)
			return 0;
		i = klen;
		if (pass == 1) {
			if (klen == 4 && memcmp(s, "null", 4) == 0 && i == n) {
				*out = json_null();
				return 1;
			}
			if (klen == 6 && memcmp(s, "inputs", 6) == 0)
				cur = inputs;
			else if (klen == 4 && memcmp(s, "self", 4) == 0)
				cur = self != NULL ? self : json_null();
			else if (klen == 7 && memcmp(s, "runtime", 7) == 0)
				cur = runtime;
			else {
				err_set(err, CWLD_EXIT_USAGE, "'%.*s' is not defined", (int)klen, s);
				return -1;
			}
			if (cur == NULL) {
				err_set(err, CWLD_EXIT_USAGE, "'%.*s' is not available here", (int)klen, s);
				return -1;
			}
		}
		while (i < n) {
			size_t segstart = i;
			int is_index = 0;
			size_t index = 0;

			klen = 0;
			if (s[i] == '.') {
				size_t l = expr_symbol_len(s + i + 1, n - i - 1);

				if (l == 0)
					return 0;
				if (l >= sizeof key)
					goto toolong;
				memcpy(key, s + i + 1, l);
				klen = l;
				i += 1 + l;
			} else if (s[i] == '[' && i + 1 < n && (s[i + 1] == '\'' || s[i + 1] == '"')) {
				char q = s[i + 1];

				i += 2;
				while (i < n && s[i] != q) {
					if (s[i] == '\\' && i + 1 < n && s[i + 1] == q)
						i++;
					if (klen + 1 >= sizeof key)
						goto toolong;
					key[klen++] = s[i++];
				}
				if (i + 1 >= n || s[i + 1] != ']' || klen == 0)
					return 0;
				i += 2;
			} else if (s[i] == '[' && i + 1 < n && s[i + 1] >= '0' && s[i + 1] <= '9') {
				i++;
				is_index = 1;
				while (i < n && s[i] >= '0' && s[i] <= '9') {
					if (index > (SIZE_MAX - 9) / 10)
						index = SIZE_MAX; /* out of range anyway */
					else
						index = index * 10 + (size_t)(s[i] - '0');
					i++;
				}
				if (i >= n || s[i] != ']')
					return 0;
				i++;
			} else
				return 0;
			key[klen] = '\0';
			if (pass == 0)
				continue;
			if (is_index) {
				if (json_is_array(cur)) {
					if (index >= json_array_size(cur)) {
						err_set(err, CWLD_EXIT_USAGE, "%.*s: index %zu out of range",
						    (int)segstart, s, index);
						return -1;
					}
					cur = json_array_get(cur, index);
				} else if (json_is_string(cur)) {
					/* one byte per character here: ASCII is what indexes use */
					if (index >= json_string_length(cur)) {
						err_set(err, CWLD_EXIT_USAGE, "%.*s: index %zu out of range",
						    (int)segstart, s, index);
						return -1;
					}
					*out = json_stringn(json_string_value(cur) + index, 1);
					if (i == n && *out != NULL)
						return 1;
					err_set(err, CWLD_EXIT_USAGE, "%.*s: cannot index a character",
					    (int)i, s);
					json_decref(*out);
					*out = NULL;
					return -1;
				} else {
					err_set(err, CWLD_EXIT_USAGE, "%.*s is not an array",
					    (int)segstart, s);
					return -1;
				}
				continue;
			}
			if (i == n && strcmp(key, "length") == 0 &&
			    (json_is_array(cur) || json_is_string(cur))) {
				size_t len = json_is_array(cur) ? json_array_size(cur) :
				    expr_utf16_len(json_string_value(cur));

				*out = json_integer((json_int_t)len);
				return 1;
			}
			if (!json_is_object(cur)) {
				err_set(err, CWLD_EXIT_USAGE, "%.*s is not an object, cannot look up '%s'",
				    (int)segstart, s, key);
				return -1;
			}
			v = json_object_get(cur, key);
			if (v == NULL) {
				err_set(err, CWLD_EXIT_USAGE, "%.*s does not contain key '%s'",
				    (int)segstart, s, key);
				return -1;
			}
			cur = v;
		}
	}
	*out = json_deep_copy(cur);
	return 1;
toolong:
	return 0;
}

/* --- JavaScript in a child -------------------------------------------- */

static void
expr_put_global(duk_context *duk, const char *name, const json_t *v, const char *dflt)
{
	char *text = NULL;

	if (v != NULL)
		text = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
	duk_push_global_object(duk);
	duk_push_string(duk, text != NULL ? text : dflt);
	free(text);
	duk_json_decode(duk, -1);
	duk_put_prop_string(duk, -2, name);
	duk_pop(duk);
}

/* Runs inside duk_safe_call in the child; leaves the result string. */
static duk_ret_t
expr_js_body(duk_context *duk, void *udata)
{
	struct expr_job *job = udata;
	const char *res;

	if (job->lib != NULL) {
		for (job->lib_index = 0; job->lib_index < json_array_size(job->lib);
		    job->lib_index++) {
			const char *src = json_string_value(json_array_get(job->lib, job->lib_index));

			if (src == NULL)
				continue;
			duk_eval_lstring_noresult(duk, src, strlen(src));
		}
		duk_push_string(duk, "null");
		return 1;
	}
	expr_put_global(duk, "inputs", job->inputs, "{}");
	expr_put_global(duk, "self", job->self, "null");
	expr_put_global(duk, "runtime", job->runtime, "{}");
	duk_eval_lstring(duk, job->code, job->len);
	if (duk_is_undefined(duk, -1)) {
		duk_pop(duk);
		duk_push_string(duk, "null");
		return 1;
	}
	res = duk_json_encode(duk, -1);
	if (res == NULL) {
		duk_pop(duk);
		duk_push_string(duk, "null");
	}
	return 1;
}

static void
expr_write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			_exit(5);
		}
		p += w;
		n -= (size_t)w;
	}
}

static void
expr_child(struct expr_ctx *ctx, struct expr_job *job, int fd)
{
	duk_context *duk = ctx->duk;
	const char *s;
	duk_size_t len;
	int rc;

	ctx->in_child = 1;
	ctx->child_fd = fd;
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	signal(SIGPIPE, SIG_DFL);
	rc = duk_safe_call(duk, expr_js_body, job, 0, 1);
	s = duk_safe_to_lstring(duk, -1, &len);
	if (rc == DUK_EXEC_SUCCESS) {
		expr_write_all(fd, "o", 1);
	} else if (job->lib != NULL) {
		char pre[64];

		snprintf(pre, sizeof pre, "eexpressionLib[%zu]: ", job->lib_index);
		expr_write_all(fd, pre, strlen(pre));
	} else
		expr_write_all(fd, "e", 1);
	if (s != NULL)
		expr_write_all(fd, s, len);
	_exit(0);
}

static long
expr_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Runs job in a forked child bounded by the context's limits. Returns the
 * child's answer ("o<json>" or "e<message>") in *out, or -1 with err. what
 * names the expression in messages. */
static int
expr_fork(struct expr_ctx *ctx, struct expr_job *job, const char *what,
    struct expr_buf *out, struct cwld_err *err)
{
	int fds[2] = { -1, -1 }, status = 0, timedout = 0, toobig = 0, rc = -1;
	pid_t pid = -1;
	long deadline;
	char buf[65536];

	if (pipe2(fds, O_CLOEXEC) < 0) {
		err_set(err, CWLD_EXIT_FAILED, "expression %s: pipe: %s", what, strerror(errno));
		goto out;
	}
	if ((pid = fork()) < 0) {
		err_set(err, CWLD_EXIT_FAILED, "expression %s: fork: %s", what, strerror(errno));
		goto out;
	}
	if (pid == 0) {
		close(fds[0]);
		expr_child(ctx, job, fds[1]);
		_exit(6);
	}
	close(fds[1]);
	fds[1] = -1;
	deadline = expr_now_ms() + (long)ctx->time_ms;
	for (;;) {
		struct pollfd pfd = { .fd = fds[0], .events = POLLIN };
		long left = deadline - expr_now_ms();
		ssize_t r;
		int pr;

		if (left <= 0) {
			timedout = 1;
			break;
		}
		pr = poll(&pfd, 1, left > 1000000 ? 1000000 : (int)left);
		if (pr < 0 && errno == EINTR)
			continue;
		if (pr < 0) {
			err_set(err, CWLD_EXIT_FAILED, "expression %s: poll: %s", what, strerror(errno));
			kill(pid, SIGKILL);
			goto reap;
		}
		if (pr == 0)
			continue;
		r = read(fds[0], buf, sizeof buf);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		if (out->len + (size_t)r > ctx->heap_limit + 1) {
			toobig = 1;
			break;
		}
		expr_buf_add(out, buf, (size_t)r);
	}
	if (timedout || toobig)
		kill(pid, SIGKILL);
	if (timedout)
		err_set(err, CWLD_EXIT_FAILED,
		    "expression %s: exceeded the time limit of %u ms", what, ctx->time_ms);
	else if (toobig)
		err_set(err, CWLD_EXIT_FAILED,
		    "expression %s: result larger than %zu bytes", what, ctx->heap_limit);
	else
		rc = 0;
reap:
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (rc == 0 && (out->len == 0 || (out->p[0] != 'o' && out->p[0] != 'e'))) {
		if (WIFSIGNALED(status))
			err_set(err, CWLD_EXIT_FAILED,
			    "expression %s: evaluator killed by signal %d", what, WTERMSIG(status));
		else
			err_set(err, CWLD_EXIT_FAILED,
			    "expression %s: evaluator failed (status %d)", what,
			    WIFEXITED(status) ? WEXITSTATUS(status) : -1);
		rc = -1;
	}
out:
	if (fds[0] >= 0)
		close(fds[0]);
	if (fds[1] >= 0)
		close(fds[1]);
	return rc;
}

/* Evaluates one $(...) (kind '(') or ${...} (kind '{') body with duktape. */
static json_t *
expr_js(struct expr_ctx *ctx, char kind, const char *body, size_t n, const char *what,
    const json_t *inputs, const json_t *self, const json_t *runtime, struct cwld_err *err)
{
	struct expr_buf code = { 0 }, res = { 0 };
	struct expr_job job = { 0 };
	json_t *v = NULL;
	json_error_t jerr;

	if (kind == '(') {
		expr_buf_add(&code, "(function(){return (", 20);
		expr_buf_add(&code, body, n);
		expr_buf_add(&code, "\n);})()", 7);
	} else {
		expr_buf_add(&code, "(function(){", 12);
		expr_buf_add(&code, body, n);
		expr_buf_add(&code, "\n})()", 5);
	}
	job.code = code.p;
	job.len = code.len;
	job.inputs = inputs;
	job.self = self;
	job.runtime = runtime;
	if (expr_fork(ctx, &job, what, &res, err) < 0)
		goto out;
	if (res.p[0] == 'e') {
		if (strstr(res.p, "alloc failed") != NULL)
			err_set(err, CWLD_EXIT_FAILED,
			    "expression %s: exceeded the memory limit of %zu bytes (%s)",
			    what, ctx->heap_limit, res.p + 1);
		else
			err_set(err, CWLD_EXIT_FAILED, "expression %s: %s", what, res.p + 1);
		goto out;
	}
	v = json_loadb(res.p + 1, res.len - 1, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
	if (v == NULL)
		err_set(err, CWLD_EXIT_FAILED, "expression %s: bad result: %s", what, jerr.text);
out:
	free(code.p);
	free(res.p);
	return v;
}

/* --- contexts ---------------------------------------------------------- */

struct expr_ctx *
expr_ctx_new(int js, const json_t *lib, struct cwld_err *err)
{
	struct expr_ctx *ctx = NULL, *ret = NULL;
	struct expr_buf res = { 0 };
	struct expr_job job = { 0 };
	size_t i;

	ctx = xcalloc(1, sizeof *ctx);
	ctx->js = js != 0;
	ctx->heap_limit = EXPR_HEAP_LIMIT;
	ctx->time_ms = EXPR_TIME_LIMIT_MS;
	if (!ctx->js) {
		ret = ctx;
		ctx = NULL;
		goto out;
	}
	ctx->duk = duk_create_heap(expr_alloc, expr_realloc, expr_free, ctx, expr_fatal);
	if (ctx->duk == NULL) {
		err_set(err, CWLD_EXIT_FAILED, "cannot create a javascript heap");
		goto out;
	}
	if (lib != NULL && json_array_size(lib) > 0) {
		for (i = 0; i < json_array_size(lib); i++) {
			if (!json_is_string(json_array_get(lib, i))) {
				err_set(err, CWLD_EXIT_USAGE, "expressionLib[%zu] is not a string", i);
				goto out;
			}
		}
		/* Run the library once where it cannot hang us, then load it. */
		job.lib = lib;
		if (expr_fork(ctx, &job, "expressionLib", &res, err) < 0)
			goto out;
		if (res.p[0] == 'e') {
			err_set(err, CWLD_EXIT_USAGE, "%s", res.p + 1);
			goto out;
		}
		for (i = 0; i < json_array_size(lib); i++) {
			const char *src = json_string_value(json_array_get(lib, i));

			if (duk_peval_lstring_noresult(ctx->duk, src, strlen(src)) != 0) {
				err_set(err, CWLD_EXIT_USAGE, "expressionLib[%zu] failed to load", i);
				goto out;
			}
		}
	}
	ret = ctx;
	ctx = NULL;
out:
	free(res.p);
	expr_ctx_free(ctx);
	return ret;
}

void
expr_ctx_free(struct expr_ctx *ctx)
{
	if (ctx == NULL)
		return;
	if (ctx->duk != NULL)
		duk_destroy_heap(ctx->duk);
	free(ctx);
}

void
expr_ctx_set_limits(struct expr_ctx *ctx, unsigned time_ms, size_t heap_bytes)
{
	if (ctx == NULL)
		return;
	ctx->time_ms = time_ms;
	/* never below what the heap already holds */
	ctx->heap_limit = heap_bytes > ctx->heap_used ? heap_bytes : ctx->heap_used;
}

/* --- evaluation -------------------------------------------------------- */

/* Plain decimal text (no exponent) of the p significant digits in e (the
 * "%.*e" text of a finite d): "1e+42" -> "1000...0", "1.23e-05" ->
 * "0.0000123". Python's Decimal prints such numbers the same way. */
static char *
expr_real_plain(const char *e)
{
	struct expr_buf b = { 0 };
	char digits[32];
	size_t nd = 0, i;
	long ex;
	const char *p = e;

	if (*p == '-')
		expr_buf_add(&b, p++, 1);
	for (; *p != '\0' && *p != 'e' && nd < sizeof digits - 1; p++)
		if (*p >= '0' && *p <= '9')
			digits[nd++] = *p;
	digits[nd] = '\0';
	ex = *p == 'e' ? strtol(p + 1, NULL, 10) : 0;
	while (nd > 1 && digits[nd - 1] == '0')
		digits[--nd] = '\0';
	if (ex >= (long)nd - 1) {
		expr_buf_add(&b, digits, nd);
		for (i = 0; i < (size_t)(ex - ((long)nd - 1)); i++)
			expr_buf_add(&b, "0", 1);
	} else if (ex >= 0) {
		expr_buf_add(&b, digits, (size_t)ex + 1);
		expr_buf_add(&b, ".", 1);
		expr_buf_add(&b, digits + ex + 1, nd - (size_t)ex - 1);
	} else {
		expr_buf_add(&b, "0.", 2);
		for (i = 0; i < (size_t)(-ex - 1); i++)
			expr_buf_add(&b, "0", 1);
		expr_buf_add(&b, digits, nd);
	}
	return b.p;
}

char *
expr_real_text(double d)
{
	char buf[64], ebuf[64];
	int p;

	if (isnan(d))
		return xstrdup("NaN");
	if (isinf(d))
		return xstrdup(d > 0 ? "Infinity" : "-Infinity");
	for (p = 1; p <= 17; p++) {
		snprintf(buf, sizeof buf, "%.*g", p, d);
		if (strtod(buf, NULL) == d)
			break;
	}
	/* Never scientific notation (CWL tools print decimals): what the
	 * shortest form writes with an exponent is spelt out in full, as
	 * cwltool does for a YAML float such as 1.23e5 -> "123000". */
	if (strchr(buf, 'e') != NULL) {
		snprintf(ebuf, sizeof ebuf, "%.*e", p - 1, d);
		return expr_real_plain(ebuf);
	}
	if (strchr(buf, '.') == NULL)
		return xasprintf("%s.0", buf);
	return xstrdup(buf);
}

static int
expr_key_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void
expr_json_add_string(struct expr_buf *b, const char *s)
{
	json_t *j = json_string(s);
	char *t = j != NULL ? json_dumps(j, JSON_ENCODE_ANY) : NULL;

	if (t != NULL)
		expr_buf_add(b, t, strlen(t));
	free(t);
	json_decref(j);
}

/* Newline and indentation for depth when indenting (indent > 0). */
static void
expr_json_nl(struct expr_buf *b, int indent, int depth)
{
	int i;

	expr_buf_add(b, "\n", 1);
	for (i = 0; i < indent * depth; i++)
		expr_buf_add(b, " ", 1);
}

/* JSON text as Python's json.dumps writes it (", " and ": ", or one item a
 * line when indent > 0), keys sorted, numbers through expr_real_text so no
 * exponent appears. */
static void
expr_json_add(struct expr_buf *b, const json_t *v, int indent, int depth)
{
	const char *key, **keys;
	json_t *item;
	size_t i, n;
	char *t;

	if (json_is_real(v)) {
		if (isfinite(json_real_value(v)))
			t = expr_real_text(json_real_value(v));
		else
			t = xstrdup("null");
		expr_buf_add(b, t, strlen(t));
		free(t);
	} else if (json_is_array(v) && json_array_size(v) > 0) {
		expr_buf_add(b, "[", 1);
		json_array_foreach(v, i, item) {
			if (i > 0)
				expr_buf_add(b, ",", 1);
			if (indent > 0)
				expr_json_nl(b, indent, depth + 1);
			else if (i > 0)
				expr_buf_add(b, " ", 1);
			expr_json_add(b, item, indent, depth + 1);
		}
		if (indent > 0)
			expr_json_nl(b, indent, depth);
		expr_buf_add(b, "]", 1);
	} else if (json_is_object(v) && json_object_size(v) > 0) {
		n = json_object_size(v);
		keys = xreallocarray(NULL, n, sizeof *keys);
		i = 0;
		json_object_foreach((json_t *)v, key, item)
			keys[i++] = key;
		qsort(keys, n, sizeof *keys, expr_key_cmp);
		expr_buf_add(b, "{", 1);
		for (i = 0; i < n; i++) {
			if (i > 0)
				expr_buf_add(b, ",", 1);
			if (indent > 0)
				expr_json_nl(b, indent, depth + 1);
			else if (i > 0)
				expr_buf_add(b, " ", 1);
			expr_json_add_string(b, keys[i]);
			expr_buf_add(b, ": ", 2);
			expr_json_add(b, json_object_get(v, keys[i]), indent, depth + 1);
		}
		free(keys);
		if (indent > 0)
			expr_json_nl(b, indent, depth);
		expr_buf_add(b, "}", 1);
	} else {
		t = json_dumps(v, JSON_ENCODE_ANY);
		if (t != NULL)
			expr_buf_add(b, t, strlen(t));
		free(t);
	}
}

char *
expr_json_text(const json_t *v)
{
	return expr_json_text_indent(v, 0);
}

char *
expr_json_text_indent(const json_t *v, int indent)
{
	struct expr_buf b = { 0 };

	expr_buf_add(&b, "", 0);
	expr_json_add(&b, v, indent, 0);
	return b.p;
}

/* Evaluates the expression s[0..n) = "$(...)" or "${...}". */
static json_t *
expr_one(struct expr_ctx *ctx, const char *s, size_t n, const json_t *inputs,
    const json_t *self, const json_t *runtime, struct cwld_err *err)
{
	char what[EXPR_SHOW + 8], show[EXPR_SHOW + 4];
	const char *body = s + 2;
	size_t blen = n - 3;
	json_t *v = NULL;
	int r = 0;

	expr_show(s, n, show, sizeof show);
	snprintf(what, sizeof what, "'%s'", show);
	if (s[1] == '(') {
		r = expr_ref(body, blen, inputs, self, runtime, &v, err);
		if (r == 1)
			return v;
	}
	if (ctx != NULL && ctx->js)
		return expr_js(ctx, s[1], body, blen, what, inputs, self, runtime, err);
	if (r == -1)
		err_prefix(err, "expression %s", what);
	else
		err_set(err, CWLD_EXIT_USAGE, "expression %s: not a parameter reference "
		    "(javascript needs InlineJavascriptRequirement)", what);
	return NULL;
}

json_t *
expr_eval_flags(struct expr_ctx *ctx, const char *text, const json_t *inputs,
    const json_t *self, const json_t *runtime, int flags, struct cwld_err *err)
{
	struct expr_buf parts = { 0 };
	const char *s = text;
	size_t n, start = 0, end = 0;
	json_t *v = NULL, *ret = NULL;
	int r, first = 1;

	if (text == NULL) {
		err_set(err, CWLD_EXIT_USAGE, "expression: no text");
		return NULL;
	}
	if (strstr(text, "$(") == NULL && strstr(text, "${") == NULL) {
		if ((ret = json_string(text)) == NULL)
			err_set(err, CWLD_EXIT_USAGE, "expression: text is not valid UTF-8");
		return ret;
	}
	n = strlen(s);
	if (!(flags & EXPR_KEEP_SPACE)) {
		while (n > 0 && strchr(" \t\r\n\f\v", s[0]) != NULL) {
			s++;
			n--;
		}
		while (n > 0 && strchr(" \t\r\n\f\v", s[n - 1]) != NULL)
			n--;
	}
	expr_buf_add(&parts, "", 0);
	while ((r = expr_scan(s, n, &start, &end)) == 1) {
		expr_buf_add(&parts, s, start);
		if (s[start] == '$') {
			v = expr_one(ctx, s + start, end - start, inputs, self, runtime, err);
			if (v == NULL)
				goto out;
			if (first && start == 0 && end == n) {
				ret = v;
				v = NULL;
				goto out;
			}
			if (json_is_string(v))
				expr_buf_add(&parts, json_string_value(v), json_string_length(v));
			else if (json_is_real(v)) {
				char *t = expr_real_text(json_real_value(v));

				expr_buf_add(&parts, t, strlen(t));
				free(t);
			} else {
				char *t = expr_json_text(v);

				expr_buf_add(&parts, t, strlen(t));
				free(t);
			}
			json_decref(v);
			v = NULL;
		} else if (end < n && s[start + 1] == '$' && (s[end] == '(' || s[end] == '{')) {
			expr_buf_add(&parts, s + start + 1, 2); /* "\$(" -> "$(" */
			end++;
		} else if (s[start + 1] == '\\')
			expr_buf_add(&parts, "\\", 1);
		else
			expr_buf_add(&parts, s + start, 2);
		s += end;
		n -= end;
		first = 0;
	}
	if (r < 0) {
		char show[EXPR_SHOW + 4];

		expr_show(s + start, n - start, show, sizeof show);
		err_set(err, CWLD_EXIT_USAGE, "expression: unfinished block '%s'", show);
		goto out;
	}
	expr_buf_add(&parts, s, n);
	ret = json_stringn(parts.p, parts.len);
	if (ret == NULL)
		err_set(err, CWLD_EXIT_USAGE, "expression: result is not valid UTF-8");
out:
	json_decref(v);
	free(parts.p);
	return ret;
}

json_t *
expr_eval(struct expr_ctx *ctx, const char *text, const json_t *inputs,
    const json_t *self, const json_t *runtime, struct cwld_err *err)
{
	return expr_eval_flags(ctx, text, inputs, self, runtime, 0, err);
}

json_t *
expr_eval_value(struct expr_ctx *ctx, const json_t *v, const json_t *inputs,
    const json_t *self, const json_t *runtime, struct cwld_err *err)
{
	if (json_is_string(v))
		return expr_eval(ctx, json_string_value(v), inputs, self, runtime, err);
	if (v == NULL)
		return json_null();
	return json_incref((json_t *)v);
}
