/* Docker Engine API client (libcurl over the unix socket or TCP, from
 * DOCKER_HOST) and the container executor built on it: create with labels,
 * mounts and limits, wait, start, collect logs, remove. Never the CLI. */
#ifndef CWLD_DOCKER_H
#define CWLD_DOCKER_H
#include <event2/event.h>
#include "cwld/err.h"
#include "cwld/exec.h"

struct docker;

/* Connects lazily; host NULL means $DOCKER_HOST or unix:///var/run/docker.sock. */
struct docker *docker_new(struct event_base *base, const char *host, struct cwld_err *err);
/* Stops and removes containers still running (best effort, blocking: for
 * shutdown, not from inside a callback), no callbacks. */
void docker_free(struct docker *d);

/* Runs spec->image with spec (labels cwld.run, cwld.step, cwld.attempt,
 * cwld.pid, cwld.host; the
 * caller's uid:gid; network none unless spec->network; mounts via
 * HostConfig.Mounts; stdout/stderr written to spec->stdout_path/stderr_path;
 * the container removed after). A missing image is pulled; if that fails
 * the result has started=0 and msg "image 'x' not found locally and could
 * not be pulled: ...". 0 and cb once, or -1 with err and no callback.
 * The stdout/stderr (and stdin) files are opened before it returns (the
 * outputs truncated); the container is attached before it starts, stdin
 * fed from its file and closed at its end, stdout/stderr written to their
 * files as they come; the engine keeps no log copy. Engine errors
 * come back in res->msg with the engine's message; started=0 when the
 * container never ran (including a failed start, e.g. a missing program);
 * a time limit stops the container (stop?t=1) and sets timed_out. At most
 * four runs are in create/start at once, the others queue. */
int docker_run(struct docker *d, const struct exec_spec *spec,
    exec_done_cb cb, void *arg, struct cwld_err *err);
/* Stops (and later removes) every container this client started; the
 * callbacks still come (msg "canceled"; started=0 for runs that had not
 * started yet). */
void docker_cancel_all(struct docker *d);

/* Blocking helper for `cwld gc`, outside the event loop: removes the
 * containers labelled cwld.run (=run_id when not NULL) whose cwld process
 * has died (labels cwld.pid and cwld.host: started on this host by a pid
 * that is gone), or all of them with all. *kept (may be NULL) counts those
 * left to live processes. Returns how many were removed, or -1 with err.
 * Every docker client also does this once in the background when it first
 * reaches the engine. */
int docker_gc_sync(const char *host, const char *run_id, int all, int *kept,
    struct cwld_err *err);

#endif
