/* Tests for host-process execution with real processes: stdio files, exit
 * codes and signals, environment and cwd as given, start failures through the
 * callback, time limits and cancel. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sys/stat.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "cwld/exec_local.h"
#include "cwld/xmalloc.h"
#include "testutil.h"

/* string literals for argv/env arrays under -Wwrite-strings */
#define L(s) ((char *)(s))

struct tel {
	struct event_base *base;
	struct exec_local *el;
	char dir[64];
	char out[128], err[128], in[128];
	int pending;
};

struct tres {
	int calls;
	struct exec_result res;
	struct tel *t;
	struct exec_spec *next; /* started from inside the callback */
	struct tres *next_res;
};

static void
test_exec_local_cb(void *arg, const struct exec_result *res)
{
	struct tres *r = arg;

	r->calls++;
	r->res = *res;
	if (r->next != NULL) {
		assert_int_equal(exec_local_start(r->t->el, r->next,
		    test_exec_local_cb, r->next_res, NULL), 0);
		r->t->pending++;
	}
	if (--r->t->pending == 0)
		event_base_loopbreak(r->t->base);
}

static int
test_exec_local_setup(void **state)
{
	struct tel *t = xcalloc(1, sizeof *t);

	snprintf(t->dir, sizeof t->dir, "/tmp/cwld-test-exec-XXXXXX");
	if (mkdtemp(t->dir) == NULL)
		return -1;
	snprintf(t->out, sizeof t->out, "%s/out.txt", t->dir);
	snprintf(t->err, sizeof t->err, "%s/err.txt", t->dir);
	snprintf(t->in, sizeof t->in, "%s/in.txt", t->dir);
	t->base = event_base_new();
	t->el = exec_local_new(t->base, NULL);
	if (t->el == NULL)
		return -1;
	*state = t;
	return 0;
}

static int
test_exec_local_teardown(void **state)
{
	struct tel *t = *state;
	char *cmd[] = { L("rm"), L("-rf"), t->dir, NULL };
	struct tres r = { 0 };
	struct exec_spec s = { 0 };
	char *env[] = { L("PATH=/usr/bin:/bin"), NULL };

	s.argv = cmd;
	s.env = env;
	s.stdout_path = "/dev/null";
	s.stderr_path = "/dev/null";
	r.t = t;
	t->pending = 1;
	exec_local_start(t->el, &s, test_exec_local_cb, &r, NULL);
	event_base_dispatch(t->base);
	exec_local_free(t->el);
	event_base_free(t->base);
	free(t);
	return 0;
}

static void
test_exec_local_spec(struct tel *t, struct exec_spec *s, char **argv,
    char **env)
{
	memset(s, 0, sizeof *s);
	s->run_id = "r1";
	s->step_id = "s1";
	s->argv = argv;
	s->env = env;
	s->cwd = t->dir;
	s->stdout_path = t->out;
	s->stderr_path = t->err;
}

static void
test_exec_local_run(struct tel *t, struct exec_spec *s, struct tres *r)
{
	memset(r, 0, sizeof *r);
	r->t = t;
	t->pending = 1;
	assert_int_equal(exec_local_start(t->el, s, test_exec_local_cb, r,
	    NULL), 0);
	assert_int_equal(r->calls, 0);
	event_base_dispatch(t->base);
	assert_int_equal(r->calls, 1);
}

static void
test_exec_local_stdio_exit(void **state)
{
	struct tel *t = *state;
	struct exec_spec s;
	struct tres r;
	char *argv[] = { L("sh"), L("-c"),
	    L("echo hello; echo oops >&2; pwd; echo \"$FOO|$HOME\"; exit 3"), NULL };
	char *env[] = { L("PATH=/usr/bin:/bin"), L("FOO=bar"), NULL };
	char *out, *err, *want;

	test_exec_local_spec(t, &s, argv, env);
	test_exec_local_run(t, &s, &r);
	assert_int_equal(r.res.started, 1);
	assert_int_equal(r.res.exit_code, 3);
	assert_int_equal(r.res.timed_out, 0);
	assert_string_equal(r.res.msg, "");
	out = tu_slurp(t->out);
	err = tu_slurp(t->err);
	/* cwd as given; env is the whole environment (no HOME) */
	want = xasprintf("hello\n%s\nbar|\n", t->dir);
	assert_string_equal(out, want);
	assert_string_equal(err, "oops\n");
	free(out);
	free(err);
	free(want);
}

static void
test_exec_local_stdin(void **state)
{
	struct tel *t = *state;
	struct exec_spec s;
	struct tres r;
	char *argv[] = { L("wc"), L("-l"), NULL };
	char *argv2[] = { L("cat"), NULL };
	char *env[] = { L("PATH=/usr/bin:/bin"), NULL };
	FILE *f;
	char *out;

	f = fopen(t->in, "w");
	assert_non_null(f);
	fputs("a\nb\nc\n", f);
	fclose(f);
	test_exec_local_spec(t, &s, argv, env);
	s.stdin_path = t->in;
	test_exec_local_run(t, &s, &r);
	assert_int_equal(r.res.exit_code, 0);
	out = tu_slurp(t->out);
	assert_int_equal(strtol(out, NULL, 10), 3);
	free(out);

	/* no stdin_path: /dev/null, so cat ends at once */
	test_exec_local_spec(t, &s, argv2, env);
	test_exec_local_run(t, &s, &r);
	assert_int_equal(r.res.exit_code, 0);
	out = tu_slurp(t->out);
	assert_string_equal(out, "");
	free(out);
}

static void
test_exec_local_missing(void **state)
{
	struct tel *t = *state;
	struct exec_spec s;
	struct tres r;
	char *argv[] = { L("cwld-no-such-program"), NULL };
	char *argv2[] = { L("/nonexistent/prog"), NULL };
	char *argv3[] = { L("true"), NULL };
	char *env[] = { L("PATH=/usr/bin:/bin"), NULL };

	test_exec_local_spec(t, &s, argv, env);
	test_exec_local_run(t, &s, &r);
	assert_int_equal(r.res.started, 0);
	assert_string_equal(r.res.msg,
	    "cannot execute 'cwld-no-such-program': No such file or directory");

	test_exec_local_spec(t, &s, argv2, env);
	test_exec_local_run(t, &s, &r);
	assert_int_equal(r.res.started, 0);
	assert_string_equal(r.res.msg,
	    "cannot execute '/nonexistent/prog': No such file or directory");

	/* a missing working directory */
	test_exec_local_spec(t, &s, argv3, env);
	s.cwd = "/nonexistent-dir";
	test_exec_local_run(t, &s, &r);
	assert_int_equal(r.res.started, 0);
	assert_non_null(strstr(r.res.msg, "/nonexistent-dir"));

	/* an unwritable stdout */
	test_exec_local_spec(t, &s, argv3, env);
	s.stdout_path = "/nonexistent-dir/out";
	test_exec_local_run(t, &s, &r);
	assert_int_equal(r.res.started, 0);
	assert_non_null(strstr(r.res.msg, "cannot open '/nonexistent-dir/out'"));

	/* empty argv is refused synchronously */
	{
		char *none[] = { NULL };
		struct cwld_err e = { 0 };

		test_exec_local_spec(t, &s, none, env);
		assert_int_equal(exec_local_start(t->el, &s, test_exec_local_cb,
		    &r, &e), -1);
		assert_true(strlen(e.msg) > 0);
	}
}

static void
test_exec_local_signal(void **state)
{
	struct tel *t = *state;
	struct exec_spec s;
	struct tres r;
	char *argv[] = { L("sh"), L("-c"), L("kill -USR1 $$"), NULL };
	char *env[] = { L("PATH=/usr/bin:/bin"), NULL };

	test_exec_local_spec(t, &s, argv, env);
	test_exec_local_run(t, &s, &r);
	assert_int_equal(r.res.started, 1);
	assert_int_equal(r.res.exit_code, 128 + 10);
}

static void
test_exec_local_timelimit(void **state)
{
	struct tel *t = *state;
	struct exec_spec s;
	struct tres r;
	/* the child of sh is in the same group and dies too */
	char *argv[] = { L("sh"), L("-c"), L("sleep 30; echo late"), NULL };
	char *env[] = { L("PATH=/usr/bin:/bin"), NULL };
	time_t t0 = time(NULL);
	char *out;

	test_exec_local_spec(t, &s, argv, env);
	s.timelimit_s = 1;
	test_exec_local_run(t, &s, &r);
	assert_int_equal(r.res.started, 1);
	assert_int_equal(r.res.timed_out, 1);
	assert_int_equal(r.res.exit_code, 128 + 9);
	assert_true(time(NULL) - t0 < 20);
	out = tu_slurp(t->out);
	assert_string_equal(out, "");
	free(out);
}

static void
test_exec_local_cancel(void **state)
{
	struct tel *t = *state;
	struct exec_spec s;
	struct tres r[3];
	char *argv[] = { L("sleep"), L("30"), NULL };
	char *env[] = { L("PATH=/usr/bin:/bin"), NULL };
	int i;

	test_exec_local_spec(t, &s, argv, env);
	t->pending = 3;
	for (i = 0; i < 3; i++) {
		memset(&r[i], 0, sizeof r[i]);
		r[i].t = t;
		assert_int_equal(exec_local_start(t->el, &s, test_exec_local_cb,
		    &r[i], NULL), 0);
	}
	exec_local_cancel_all(t->el);
	event_base_dispatch(t->base);
	for (i = 0; i < 3; i++) {
		assert_int_equal(r[i].calls, 1);
		assert_int_equal(r[i].res.started, 1);
		assert_int_equal(r[i].res.exit_code, 128 + 15);
		assert_int_equal(r[i].res.timed_out, 0);
	}
}

static void
test_exec_local_chain_and_parallel(void **state)
{
	struct tel *t = *state;
	struct exec_spec s, s2;
	struct tres r[5], r2;
	char *argv[] = { L("sh"), L("-c"), L("exit 7"), NULL };
	char *argv2[] = { L("true"), NULL };
	char *env[] = { L("PATH=/usr/bin:/bin"), NULL };
	int i;

	test_exec_local_spec(t, &s, argv, env);
	test_exec_local_spec(t, &s2, argv2, env);
	memset(&r2, 0, sizeof r2);
	r2.t = t;
	t->pending = 5;
	for (i = 0; i < 5; i++) {
		memset(&r[i], 0, sizeof r[i]);
		r[i].t = t;
		assert_int_equal(exec_local_start(t->el, &s, test_exec_local_cb,
		    &r[i], NULL), 0);
	}
	r[2].next = &s2;
	r[2].next_res = &r2;
	event_base_dispatch(t->base);
	for (i = 0; i < 5; i++) {
		assert_int_equal(r[i].calls, 1);
		assert_int_equal(r[i].res.exit_code, 7);
	}
	assert_int_equal(r2.calls, 1);
	assert_int_equal(r2.res.exit_code, 0);
}

static void
test_exec_local_free_kills(void **state)
{
	struct tel *t = *state;
	struct exec_local *el;
	struct exec_spec s;
	struct tres r;
	char *argv[] = { L("sleep"), L("30"), NULL };
	char *env[] = { L("PATH=/usr/bin:/bin"), NULL };
	time_t t0 = time(NULL);

	el = exec_local_new(t->base, NULL);
	assert_non_null(el);
	test_exec_local_spec(t, &s, argv, env);
	memset(&r, 0, sizeof r);
	r.t = t;
	assert_int_equal(exec_local_start(el, &s, test_exec_local_cb, &r,
	    NULL), 0);
	exec_local_free(el);
	assert_int_equal(r.calls, 0);
	assert_true(time(NULL) - t0 < 10);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exec_local_stdio_exit),
		cmocka_unit_test(test_exec_local_stdin),
		cmocka_unit_test(test_exec_local_missing),
		cmocka_unit_test(test_exec_local_signal),
		cmocka_unit_test(test_exec_local_timelimit),
		cmocka_unit_test(test_exec_local_cancel),
		cmocka_unit_test(test_exec_local_chain_and_parallel),
		cmocka_unit_test(test_exec_local_free_kills),
	};

	return cmocka_run_group_tests(tests, test_exec_local_setup,
	    test_exec_local_teardown);
}
