/* Docker Engine API client (libcurl over the unix socket or TCP, from
 * DOCKER_HOST) and the container executor built on it: create with labels,
 * mounts and limits, wait, start, collect logs, remove. Never the CLI. */
#ifndef CWLD_DOCKER_H
#define CWLD_DOCKER_H
#include <event2/event.h>
#include "cwld/docker_stream.h"
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
 * the container removed after cb has had the result: the next step need
 * not wait for it). A missing image is pulled; if that fails
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
/* Takes over a container a previous daemon started (spec->daemon, so the
 * engine kept its output): waits for it to end, then writes the engine's
 * copy of its stdout and stderr to spec's files (replacing what was caught
 * live; when the engine has no copy the files stay as they are, with a
 * warning), removes it and calls cb with its exit code. A container that is
 * gone ends with started=0. 0, or -1 with err and no callback. */
int docker_reattach(struct docker *d, const char *container_id, const struct exec_spec *spec,
    exec_done_cb cb, void *arg, struct cwld_err *err);
/* Containers this client still deals with: running, or ended (their
 * result delivered) and being removed. */
int docker_pending(const struct docker *d);
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

/* The state directory (resolved, absolute) of the daemon this process is:
 * its containers are labelled cwld.state with it, so that a daemon on
 * another state directory leaves them alone. Copied; NULL unsets. */
void docker_owner_set_state(const char *state_dir);

/* A daemon's containers (label cwld.owner=serve, and cwld.state this
 * daemon's state directory or none, started on this host) at its start,
 * blocking: keep(arg, run, step, attempt, id, state) is asked about each;
 * those it does not keep (returns 0) are removed. Returns how many were removed,
 * *kept (may be NULL) how many stay; -1 with err. */
typedef int (*docker_keep_cb)(void *arg, const char *run, const char *step, int attempt,
    const char *id, const char *state);
int docker_daemon_sync(const char *host, docker_keep_cb keep, void *arg, int *kept,
    struct cwld_err *err);
/* For a daemon that stops to be restarted: docker_free then leaves the
 * containers that have started running (a later daemon re-attaches them)
 * and removes only those that never started. */
void docker_detach(struct docker *d);

/* ---- images (src/exec/docker_image.c) ------------------------------------
 * Every way a DockerRequirement names its image, made present in the engine
 * before a container is run from it. */

/* How a pull is going: the image pulled and its layers summed (see
 * docker_stream.h). Borrowed for the call. */
struct docker_image_progress {
	const char *image;
	struct docker_stream_pull_sum sum;
};
typedef void (*docker_image_progress_cb)(void *arg,
    const struct docker_image_progress *p);

/* The fields of a DockerRequirement; any may be NULL, all borrowed for the
 * call only. */
struct docker_image_req {
	const char *pull;       /* dockerPull */
	const char *image_id;   /* dockerImageId */
	const char *load;       /* dockerLoad: a `docker save` tarball, path or
	                         * http(s) URL */
	const char *import;     /* dockerImport: a root file system tarball,
	                         * path or http(s) URL */
	const char *dockerfile; /* dockerFile: the Dockerfile's text */
	const char *base_uri;   /* relative load/import paths are relative to
	                         * this file:// URI (the document); NULL: the
	                         * current directory */
	/* or NULL: called with docker_image_ensure's arg, on the loop, while
	 * a pull runs (when a layer appears or completes, and at most every
	 * 250 ms as bytes arrive); never after cb. It must not call back
	 * into docker_image. */
	docker_image_progress_cb progress;
};

#define DOCKER_IMAGE_DOCKERFILE_REPO "cwld-dockerfile"
#define DOCKER_IMAGE_IMPORT_REPO "cwld-dockerimport"

/* The outcome of docker_image_ensure: the reference to run (borrowed for
 * the call) and err NULL, or ref NULL and err (code CWLD_EXIT_FAILED, or
 * CWLD_EXIT_UNREACHABLE when the engine cannot be reached). */
typedef void (*docker_image_cb)(void *arg, const char *ref,
    const struct cwld_err *err);

/* The reference the image will have when it is known beforehand:
 * dockerImageId, else dockerPull, else for a dockerFile
 * "cwld-dockerfile:<the first 16 hex digits of the sha256 of its text>".
 * NULL for a dockerLoad or dockerImport without a name (known once loaded)
 * and for a request naming nothing. New string. */
char *docker_image_name(const struct docker_image_req *req);

/* Makes the image of req present and calls cb once from the loop with its
 * reference. The name (docker_image_name) is inspected first: when the
 * engine has it nothing else happens. Otherwise, in this order of
 * preference:
 *  - dockerFile: POST /build of a context holding only the Dockerfile,
 *    tagged with the name (labels cwld.dockerfile=<sha256 of the text>);
 *  - dockerLoad: POST /images/load with the tarball streamed from the file
 *    (a URL is downloaded to an unlinked temporary file first); the image
 *    is then the name (the loaded image is tagged with it when the tarball
 *    did not hold it) or, without a name, the "Loaded image" of the
 *    engine's answer;
 *  - dockerImport: POST /images/create?fromSrc=- with the tarball
 *    streamed, tagged with the name or else with
 *    "cwld-dockerimport:<first 16 hex of the sha256 of the tarball>" (the
 *    file is hashed, a MiB per loop turn, and that tag inspected first);
 *  - dockerPull (or dockerImageId): pulled.
 * The JSON lines of those answers are checked one by one: a line with
 * "error" fails the operation with the engine's message (and, for a
 * build, the last lines of its output). Concurrent and later requests for
 * the same image share one operation; a success is remembered for the
 * client's life, a failure is not. 0, or -1 with err (a request naming no
 * image, an unreachable engine) and no callback. */
int docker_image_ensure(struct docker *d, const struct docker_image_req *req,
    docker_image_cb cb, void *arg, struct cwld_err *err);
/* Aborts every image operation in flight: their callbacks still come, from
 * the loop, with "canceled". An aborted build is stopped by the engine
 * when its connection closes. */
void docker_image_cancel_all(struct docker *d);

#endif
