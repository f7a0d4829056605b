/* Host processes: posix_spawn with redirected stdio in the output directory,
 * exits learned from SIGCHLD through the event loop. */
#ifndef CWLD_EXEC_LOCAL_H
#define CWLD_EXEC_LOCAL_H
#include <sys/types.h>
#include <event2/event.h>
#include "cwld/err.h"
#include "cwld/exec.h"

struct exec_local;

struct exec_local *exec_local_new(struct event_base *base, struct cwld_err *err);
/* Kills (SIGKILL) what is still running; no callbacks after this. */
void exec_local_free(struct exec_local *el);
/* Starts spec (image ignored). 0 and cb called once later, or -1 with err
 * and cb never called. spec is copied. */
int exec_local_start(struct exec_local *el, const struct exec_spec *spec,
    exec_done_cb cb, void *arg, struct cwld_err *err);
/* The pid (also its process group) of the process the last successful
 * exec_local_start started; 0 when that start failed and cb reports it. */
pid_t exec_local_started_pid(const struct exec_local *el);
/* Sends SIGTERM to every running process (cancel); callbacks still come. */
void exec_local_cancel_all(struct exec_local *el);

#endif
