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
/* Stops and removes containers still running (best effort), no callbacks. */
void docker_free(struct docker *d);

/* Runs spec->image with spec (labels cwld.run, cwld.step, cwld.attempt; the
 * caller's uid:gid; network none unless spec->network; mounts via
 * HostConfig.Mounts; stdout/stderr written to spec->stdout_path/stderr_path;
 * the container removed after). A missing image is pulled; if that fails
 * the result has started=0 and msg "image 'x' not found locally and could
 * not be pulled: ...". 0 and cb once, or -1 with err and no callback. */
int docker_run(struct docker *d, const struct exec_spec *spec,
    exec_done_cb cb, void *arg, struct cwld_err *err);
/* Stops (and later removes) every container this client started. */
void docker_cancel_all(struct docker *d);

/* Blocking helpers for the CLI and tests outside the event loop: removes all
 * containers labelled cwld.run=run_id (NULL: any cwld container); returns
 * how many, or -1 with err. */
int docker_gc_sync(const char *host, const char *run_id, struct cwld_err *err);

#endif
