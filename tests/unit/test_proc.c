/* Unit tests for proc: identities of real processes, and what
 * proc_kill_group kills (a group whose leader is the recorded process or
 * is gone) and leaves alone (another process with that pid, a wrong
 * identity, another boot). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cwld/proc.h"

/* A child leading its own process group, with a grandchild in it (as a
 * tool's shell and the command it runs). Both sleep until killed. */
static pid_t
test_proc_group(void)
{
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		setpgid(0, 0);
		if (fork() == 0)
			execlp("sleep", "sleep", "60", (char *)NULL);
		execlp("sleep", "sleep", "60", (char *)NULL);
		_exit(127);
	}
	setpgid(pid, pid); /* whichever runs first */
	return pid;
}

/* Whether any process is left in group pgid (0 or 1). */
static int
test_proc_group_alive(pid_t pgid)
{
	int i;

	for (i = 0; i < 200; i++) {
		if (kill(-pgid, 0) == -1 && errno == ESRCH)
			return 0;
		usleep(10000);
	}
	return 1;
}

static void
test_proc_ident(void **state)
{
	char *a = proc_ident(getpid()), *b = proc_ident(getpid()), *c = proc_ident(1);

	(void)state;
	assert_non_null(a);
	assert_non_null(strchr(a, '/'));
	assert_string_equal(a, b);         /* stable */
	if (c != NULL)
		assert_string_not_equal(a, c); /* another process, another start */
	assert_null(proc_ident(0));
	assert_null(proc_ident(-5));
	assert_null(proc_ident(0x3ffffff)); /* beyond pid_max: none */
	free(a);
	free(b);
	free(c);
}

static void
test_proc_kill(void **state)
{
	pid_t pid = test_proc_group();
	char *ident, *self = proc_ident(getpid()), wrong[128];
	int status;

	(void)state;
	usleep(100000); /* the grandchild forked */
	ident = proc_ident(pid);
	assert_non_null(ident);
	/* another identity (as a reused pid has): left alone */
	snprintf(wrong, sizeof wrong, "%.*s/1", (int)(strchr(ident, '/') - ident), ident);
	assert_int_equal(proc_kill_group(pid, wrong), 0);
	assert_int_equal(kill(pid, 0), 0);
	/* another boot: nothing of it can be left */
	assert_int_equal(proc_kill_group(pid, "not-this-boot/1"), 0);
	assert_int_equal(kill(pid, 0), 0);
	/* the recorded process: its whole group goes */
	assert_int_equal(proc_kill_group(pid, ident), 1);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	assert_true(waitpid(-pid, &status, 0) > 0); /* the grandchild */
	assert_int_equal(test_proc_group_alive(pid), 0);
	/* nothing left: 0 */
	assert_int_equal(proc_kill_group(pid, ident), 0);
	/* bad arguments */
	assert_int_equal(proc_kill_group(pid, "no-slash"), -1);
	assert_int_equal(proc_kill_group(1, self), -1);
	free(ident);
	free(self);
}

/* The leader exited, its child lives on in the group: still killed. */
static void
test_proc_kill_orphans(void **state)
{
	pid_t pid;
	char *ident;
	int fds[2], status;
	char c;

	(void)state;
	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		setpgid(0, 0);
		close(fds[0]);
		if (fork() == 0) {
			close(fds[1]);
			execlp("sleep", "sleep", "60", (char *)NULL);
			_exit(127);
		}
		/* the leader waits to be identified, then leaves */
		(void)!write(fds[1], "x", 1);
		pause();
		_exit(0);
	}
	setpgid(pid, pid);
	close(fds[1]);
	assert_int_equal(read(fds[0], &c, 1), 1);
	close(fds[0]);
	ident = proc_ident(pid);
	assert_non_null(ident);
	kill(pid, SIGTERM);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_int_equal(kill(-pid, 0), 0); /* the sleep is left */
	assert_int_equal(proc_kill_group(pid, ident), 1);
	assert_true(waitpid(-pid, &status, 0) > 0);
	assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	assert_int_equal(test_proc_group_alive(pid), 0);
	free(ident);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_proc_ident),
		cmocka_unit_test(test_proc_kill),
		cmocka_unit_test(test_proc_kill_orphans),
	};

	/* orphaned grandchildren come to this process, not to an init that
	 * may not reap them (zombies would still answer kill(-pgid, 0)) */
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
