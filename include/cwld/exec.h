/* What an executor is asked to run and what it reports back: shared by the
 * local (fork/exec) and Docker executors so the engine treats them alike. */
#ifndef CWLD_EXEC_H
#define CWLD_EXEC_H
#include <stddef.h>
#include <stdint.h>

struct exec_mount {
	const char *source; /* host path (file or directory) */
	const char *target; /* path inside the container */
	int readonly;
};

struct exec_spec {
	const char *run_id;      /* for labels and messages */
	const char *step_id;
	int attempt;
	char *const *argv;       /* NULL-terminated */
	char *const *env;        /* NULL-terminated "K=V", the whole environment */
	const char *cwd;         /* working directory (the output directory) */
	const char *stdin_path;  /* NULL: /dev/null */
	const char *stdout_path; /* required: file that receives stdout */
	const char *stderr_path; /* required: file that receives stderr */
	/* Docker only */
	const char *image;       /* image reference; NULL for local execution */
	int image_present;       /* made present by the caller (docker_image_ensure):
	                          * no inspect or pull before create */
	const struct exec_mount *mounts;
	size_t nmounts;
	int network;             /* 0: network "none" */
	int64_t memory_mb;       /* 0: no limit */
	double cores;            /* 0: no limit */
	int timelimit_s;         /* 0: none; exceeded -> stopped, timed_out set */
	/* a daemon's (label cwld.owner=serve): the engine keeps a log copy
	 * (json-file) so that a restarted daemon can read what the container
	 * wrote while it was away, and only that daemon removes it */
	int daemon;
};

struct exec_result {
	int started;          /* 0: never started (see msg) */
	int exit_code;        /* valid when started */
	int timed_out;
	int unreachable;      /* the executor itself (Docker engine) could not be reached */
	char container_id[72];
	char msg[512];        /* why it could not start / failed, "" otherwise */
};

/* Completion callback: called exactly once from the event loop when a start
 * function returned 0. res is borrowed for the call. */
typedef void (*exec_done_cb)(void *arg, const struct exec_result *res);

#endif
