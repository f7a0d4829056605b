/* Host processes for tools run without a container: posix_spawn in its own
 * process group with stdio redirected to files, the exit learned from
 * SIGCHLD (a libevent signal event, then waitpid per child, WNOHANG), a
 * time limit as an evtimer that kills the group. What to run and where the
 * files live is decided by the job module. */
#include <sys/queue.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "cwld/exec_local.h"
#include "cwld/log.h"
#include "cwld/xmalloc.h"

#define EXEC_LOCAL_DEFAULT_PATH "/usr/local/bin:/usr/bin:/bin"

struct exec_local_proc {
	TAILQ_ENTRY(exec_local_proc) entry;
	struct exec_local *el;
	pid_t pid;               /* 0: never started, result already known */
	struct event *limit;     /* time limit, or NULL */
	char limit_msg[64];
	struct event *failed;    /* delivers a start failure from the loop */
	exec_done_cb cb;
	void *arg;
	struct exec_result res;
};

TAILQ_HEAD(exec_local_procs, exec_local_proc);

struct exec_local {
	struct event_base *base;
	struct event *sigchld;
	struct exec_local_procs procs;
	pid_t last_pid;          /* of the last exec_local_start, 0: not started */
};

static void
exec_local_proc_free(struct exec_local_proc *p)
{
	if (p == NULL)
		return;
	if (p->limit != NULL)
		event_free(p->limit);
	if (p->failed != NULL)
		event_free(p->failed);
	free(p);
}

/* Reaps our children that have exited, then reports them, so a callback
 * that starts a new process does not disturb the walk. */
static void
exec_local_sigchld_cb(evutil_socket_t sig, short what, void *arg)
{
	struct exec_local *el = arg;
	struct exec_local_procs done;
	struct exec_local_proc *p, *next;
	pid_t r;
	int status;

	(void)sig;
	(void)what;
	TAILQ_INIT(&done);
	for (p = TAILQ_FIRST(&el->procs); p != NULL; p = next) {
		next = TAILQ_NEXT(p, entry);
		if (p->pid <= 0)
			continue;
		do
			r = waitpid(p->pid, &status, WNOHANG);
		while (r == -1 && errno == EINTR);
		if (r == 0)
			continue;
		if (r == -1) {
			log_warn("exec_local: waitpid %ld", (long)p->pid);
			p->res.exit_code = 127;
			snprintf(p->res.msg, sizeof p->res.msg,
			    "lost track of process %ld", (long)p->pid);
		} else if (WIFEXITED(status)) {
			p->res.exit_code = WEXITSTATUS(status);
		} else if (WIFSIGNALED(status)) {
			p->res.exit_code = 128 + WTERMSIG(status);
		} else {
			continue; /* stopped or continued: not an exit */
		}
		TAILQ_REMOVE(&el->procs, p, entry);
		TAILQ_INSERT_TAIL(&done, p, entry);
	}
	while ((p = TAILQ_FIRST(&done)) != NULL) {
		TAILQ_REMOVE(&done, p, entry);
		p->cb(p->arg, &p->res);
		exec_local_proc_free(p);
	}
}

static void
exec_local_limit_cb(evutil_socket_t fd, short what, void *arg)
{
	struct exec_local_proc *p = arg;

	(void)fd;
	(void)what;
	if (p->pid <= 0)
		return;
	p->res.timed_out = 1;
	snprintf(p->res.msg, sizeof p->res.msg, "%s", p->limit_msg);
	/* the whole process group: the tool's own children too */
	if (kill(-p->pid, SIGKILL) == -1)
		kill(p->pid, SIGKILL);
}

static void
exec_local_failed_cb(evutil_socket_t fd, short what, void *arg)
{
	struct exec_local_proc *p = arg;
	struct exec_local *el = p->el;

	(void)fd;
	(void)what;
	TAILQ_REMOVE(&el->procs, p, entry);
	p->cb(p->arg, &p->res);
	exec_local_proc_free(p);
}

struct exec_local *
exec_local_new(struct event_base *base, struct cwld_err *err)
{
	struct exec_local *el;

	el = xcalloc(1, sizeof *el);
	el->base = base;
	TAILQ_INIT(&el->procs);
	el->sigchld = evsignal_new(base, SIGCHLD, exec_local_sigchld_cb, el);
	if (el->sigchld == NULL || evsignal_add(el->sigchld, NULL) == -1) {
		if (el->sigchld != NULL)
			event_free(el->sigchld);
		free(el);
		err_set(err, CWLD_EXIT_FAILED,
		    "exec_local: cannot watch SIGCHLD");
		return NULL;
	}
	return el;
}

void
exec_local_free(struct exec_local *el)
{
	struct exec_local_proc *p;

	if (el == NULL)
		return;
	while ((p = TAILQ_FIRST(&el->procs)) != NULL) {
		TAILQ_REMOVE(&el->procs, p, entry);
		if (p->pid > 0) {
			if (kill(-p->pid, SIGKILL) == -1)
				kill(p->pid, SIGKILL);
			while (waitpid(p->pid, NULL, 0) == -1 && errno == EINTR)
				;
		}
		exec_local_proc_free(p);
	}
	event_free(el->sigchld);
	free(el);
}

pid_t
exec_local_started_pid(const struct exec_local *el)
{
	return el->last_pid;
}

void
exec_local_cancel_all(struct exec_local *el)
{
	struct exec_local_proc *p;

	TAILQ_FOREACH(p, &el->procs, entry) {
		if (p->pid <= 0)
			continue;
		if (kill(-p->pid, SIGTERM) == -1)
			kill(p->pid, SIGTERM);
	}
}

/* The value of PATH in env, else ours, else a default. Borrowed. */
static const char *
exec_local_path_of(char *const *env)
{
	const char *path;

	for (; env != NULL && *env != NULL; env++)
		if (strncmp(*env, "PATH=", 5) == 0)
			return *env + 5;
	path = getenv("PATH");
	return path != NULL ? path : EXEC_LOCAL_DEFAULT_PATH;
}

/* Resolves a program name without a slash against PATH from the tool's
 * environment (posix_spawnp would use ours). New string, or NULL with
 * errno set. */
static char *
exec_local_resolve(const char *prog, char *const *env)
{
	const char *path, *p, *colon;
	char *cand;
	int saved = ENOENT;

	if (*prog == '\0') {
		errno = ENOENT;
		return NULL;
	}
	if (strchr(prog, '/') != NULL)
		return xstrdup(prog);
	path = exec_local_path_of(env);
	for (p = path;; p = colon + 1) {
		colon = strchr(p, ':');
		if (colon == NULL)
			colon = p + strlen(p);
		if (colon == p)
			cand = xasprintf("./%s", prog);
		else
			cand = xasprintf("%.*s/%s", (int)(colon - p), p, prog);
		if (access(cand, X_OK) == 0)
			return cand;
		if (errno == EACCES)
			saved = EACCES;
		free(cand);
		if (*colon == '\0')
			break;
	}
	errno = saved;
	return NULL;
}

static int
exec_local_open(const char *path, int flags, int *fd, struct exec_result *res)
{
	*fd = open(path, flags | O_CLOEXEC, 0644);
	if (*fd == -1) {
		snprintf(res->msg, sizeof res->msg, "cannot open '%s': %s",
		    path, strerror(errno));
		return -1;
	}
	return 0;
}

int
exec_local_start(struct exec_local *el, const struct exec_spec *spec,
    exec_done_cb cb, void *arg, struct cwld_err *err)
{
	struct exec_local_proc *p = NULL;
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t mask, def;
	char *prog = NULL;
	char *const empty_env[] = { NULL };
	int in = -1, out = -1, errfd = -1, have_fa = 0, have_attr = 0, rc = 0;
	int ret = -1;

	if (spec->argv == NULL || spec->argv[0] == NULL)
		return err_set(err, CWLD_EXIT_FAILED,
		    "exec_local: step '%s': empty command line",
		    spec->step_id != NULL ? spec->step_id : "?");
	if (spec->stdout_path == NULL || spec->stderr_path == NULL)
		return err_set(err, CWLD_EXIT_FAILED,
		    "exec_local: step '%s': no stdout or stderr file",
		    spec->step_id != NULL ? spec->step_id : "?");

	p = xcalloc(1, sizeof *p);
	p->el = el;
	p->cb = cb;
	p->arg = arg;

	if (exec_local_open(spec->stdin_path != NULL ? spec->stdin_path :
	    "/dev/null", O_RDONLY, &in, &p->res) == -1 ||
	    exec_local_open(spec->stdout_path, O_WRONLY | O_CREAT | O_TRUNC,
	    &out, &p->res) == -1 ||
	    exec_local_open(spec->stderr_path, O_WRONLY | O_CREAT | O_TRUNC,
	    &errfd, &p->res) == -1)
		goto not_started;

	prog = exec_local_resolve(spec->argv[0], spec->env);
	if (prog == NULL) {
		snprintf(p->res.msg, sizeof p->res.msg,
		    "cannot execute '%s': %s", spec->argv[0], strerror(errno));
		goto not_started;
	}

	if ((rc = posix_spawn_file_actions_init(&fa)) != 0)
		goto spawn_failed;
	have_fa = 1;
	if ((rc = posix_spawnattr_init(&attr)) != 0)
		goto spawn_failed;
	have_attr = 1;
	/* The daemon may ignore SIGPIPE; ignored signals survive exec. */
	sigemptyset(&mask);
	sigemptyset(&def);
	sigaddset(&def, SIGPIPE);
	sigaddset(&def, SIGCHLD);
	sigaddset(&def, SIGINT);
	sigaddset(&def, SIGTERM);
	sigaddset(&def, SIGHUP);
	sigaddset(&def, SIGQUIT);
	if ((rc = posix_spawnattr_setsigmask(&attr, &mask)) != 0 ||
	    (rc = posix_spawnattr_setsigdefault(&attr, &def)) != 0 ||
	    (rc = posix_spawnattr_setpgroup(&attr, 0)) != 0 ||
	    (rc = posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK |
	    POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP)) != 0)
		goto spawn_failed;
	if ((rc = posix_spawn_file_actions_adddup2(&fa, in, 0)) != 0 ||
	    (rc = posix_spawn_file_actions_adddup2(&fa, out, 1)) != 0 ||
	    (rc = posix_spawn_file_actions_adddup2(&fa, errfd, 2)) != 0)
		goto spawn_failed;
	if (spec->cwd != NULL &&
	    (rc = posix_spawn_file_actions_addchdir_np(&fa, spec->cwd)) != 0)
		goto spawn_failed;
	/* glibc reports a failed chdir or exec through the return value */
	rc = posix_spawn(&p->pid, prog, &fa, &attr, spec->argv,
	    spec->env != NULL ? spec->env : empty_env);
	if (rc != 0) {
		p->pid = 0;
		goto spawn_failed;
	}
	p->res.started = 1;
	el->last_pid = p->pid;
	if (spec->timelimit_s > 0) {
		struct timeval tv = { spec->timelimit_s, 0 };

		/* the reason, should the timer fire */
		snprintf(p->limit_msg, sizeof p->limit_msg,
		    "time limit of %d s exceeded", spec->timelimit_s);

		p->limit = evtimer_new(el->base, exec_local_limit_cb, p);
		if (p->limit != NULL)
			evtimer_add(p->limit, &tv);
	}
	TAILQ_INSERT_TAIL(&el->procs, p, entry);
	p = NULL;
	ret = 0;
	/* a child that exited before the signal event saw it: the signal is
	 * still pending for libevent, nothing to do here */
	goto out;

spawn_failed:
	if (spec->cwd != NULL && access(spec->cwd, X_OK) != 0)
		snprintf(p->res.msg, sizeof p->res.msg,
		    "cannot execute '%s': cannot change to '%s': %s",
		    spec->argv[0], spec->cwd, strerror(errno));
	else
		snprintf(p->res.msg, sizeof p->res.msg,
		    "cannot execute '%s': %s", spec->argv[0], strerror(rc));
not_started:
	/* the documented contract: started=0 comes through the callback */
	el->last_pid = 0;
	p->res.started = 0;
	p->res.exit_code = 127;
	p->failed = event_new(el->base, -1, 0, exec_local_failed_cb, p);
	if (p->failed == NULL) {
		err_set(err, CWLD_EXIT_FAILED, "%s", p->res.msg);
		goto out;
	}
	TAILQ_INSERT_TAIL(&el->procs, p, entry);
	event_active(p->failed, EV_TIMEOUT, 0);
	p = NULL;
	ret = 0;
out:
	if (have_fa)
		posix_spawn_file_actions_destroy(&fa);
	if (have_attr)
		posix_spawnattr_destroy(&attr);
	if (in != -1)
		close(in);
	if (out != -1)
		close(out);
	if (errfd != -1)
		close(errfd);
	free(prog);
	exec_local_proc_free(p);
	return ret;
}
