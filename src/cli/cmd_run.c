/* `cwld run` (and `cwl-runner`): load a process and its job, run it on one
 * event loop with the scheduler, record it in the store, move the outputs
 * to --outdir and print the CWL output object on stdout. */
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <event2/event.h>

#include "cwld/cli.h"
#include "cwld/cli_inputs.h"
#include "cwld/expr.h"
#include "cwld/fetch.h"
#include "cwld/fs.h"
#include "cwld/load.h"
#include "cwld/log.h"
#include "cwld/params.h"
#include "cwld/progress_tty.h"
#include "cwld/relocate.h"
#include "cwld/scheduler.h"
#include "cwld/store.h"
#include "cwld/upload.h"
#include "cwld/uri.h"
#include "cwld/xmalloc.h"

struct run_result {
	int done;
	int status;
	json_t *outputs;
	char *msg;
	struct event_base *base; /* the loop to stop: signal events keep it alive */
};

static void
run_usage(FILE *f)
{
	fprintf(f,
	    "usage: cwld run [OPTIONS] PROCESS [JOB] [--INPUT VALUE ...]\n"
	    "       cwl-runner [OPTIONS] PROCESS [JOB] [--INPUT VALUE ...]\n"
	    "\n"
	    "Runs a CWL CommandLineTool, ExpressionTool or Workflow with the inputs in JOB\n"
	    "(YAML or JSON; none means no inputs) and those given after it as --name\n"
	    "value (they win; `cwld run PROCESS --help` lists them), and prints the\n"
	    "output object as JSON on stdout. cwld's options go before PROCESS.\n"
	    "Tools with a DockerRequirement run in containers through the Docker\n"
	    "Engine API ($DOCKER_HOST or /var/run/docker.sock); others run on the host.\n"
	    "Inputs at s3://bucket/key (a File) or s3://bucket/prefix/ (a Directory) are\n"
	    "downloaded once into the run's work directory, each just before the first\n"
	    "step that gets it (every File is looked at when the run starts: a missing\n"
	    "one fails it before its first step).\n"
	    "The image is made present first: dockerPull/dockerImageId are pulled when\n"
	    "missing, dockerLoad (a `docker save` tarball) loaded, dockerImport (a root\n"
	    "file system tarball) imported, both from a path relative to the document or\n"
	    "an http(s) URL, and dockerFile built (tagged dockerImageId or dockerPull when\n"
	    "given, else cwld-dockerfile:<hash of its text>, so it is built only once).\n"
	    "\n"
	    "options:\n"
	    "  --outdir DIR            where final outputs go (default: current directory)\n"
	    "  --parallel N            tool invocations at once (default: number of cores)\n"
	    "  --cores N               cores the running tools may reserve together\n"
	    "                          (fractions allowed; default: the machine's online\n"
	    "                          CPUs, sysconf _SC_NPROCESSORS_ONLN)\n"
	    "  --ram MIB               memory in MiB they may reserve together (default:\n"
	    "                          the machine's physical memory, _SC_PHYS_PAGES x\n"
	    "                          _SC_PAGESIZE). A tool reserves the coresMin and\n"
	    "                          ramMin of its ResourceRequirement (coresMax, ramMax\n"
	    "                          when only those are given) and waits until they\n"
	    "                          are free; tools without one count only against\n"
	    "                          --parallel. A tool asking for more than the budget\n"
	    "                          runs alone, with a warning\n"
	    "  --state-dir DIR         database and work dirs (default: $CWLD_STATE_DIR,\n"
	    "                          else $XDG_DATA_HOME/cwld or ~/.local/share/cwld)\n"
	    "  --no-container          ignore DockerRequirement, run every tool on the host\n"
	    "  --force-docker          run tools without DockerRequirement in a container too\n"
	    "  --default-container IMG image for those tools (with --force-docker)\n"
	    "  --build-missing         a tool with a SoftwareRequirement but no image in a\n"
	    "                          DockerRequirement runs in an image built from its\n"
	    "                          packages: Debian packages apt-get installs on\n"
	    "                          --default-container, else debian:stable-slim (the\n"
	    "                          Dockerfile `cwld dockerfile TOOL` prints). Built\n"
	    "                          once, tagged cwld-dockerfile:<hash of its text>; the\n"
	    "                          build needs a Debian mirror (deb.debian.org)\n"
	    "  --work-dir DIR          where the run's step directories go (default:\n"
	    "                          STATE/runs); scratch on a fast file system (tmpfs)\n"
	    "                          speeds up runs of many short steps\n"
	    "  --leave-workdir         keep the run's work directories after success\n"
	    "  --cache-dir DIR         reuse tool results from earlier runs cached in DIR\n"
	    "  --output-location s3://BUCKET/PREFIX\n"
	    "                          after a successful run, store the output files in\n"
	    "                          S3: OUTDIR/NAME goes to PREFIX/NAME, a Directory as\n"
	    "                          the files below it (PREFIX/NAME/...), eight at a time\n"
	    "                          (multipart from 16 MiB, retries on 5xx and broken\n"
	    "                          connections). The output object printed then has\n"
	    "                          s3:// locations, basename, size and the sha1\n"
	    "                          checksum, and no path or dirname. Without --outdir\n"
	    "                          the local copies are staged in the run's work dir and\n"
	    "                          removed; with it they stay there. A failed upload\n"
	    "                          fails the run (exit 1) and prints no output object;\n"
	    "                          what it had stored stays in the bucket. The location\n"
	    "                          is checked first (one listing of PREFIX/): a missing\n"
	    "                          bucket, refused credentials or no answer fail the\n"
	    "                          run before it starts\n"
	    "  --s3-endpoint URL       S3-compatible server for s3:// inputs and outputs\n"
	    "                          (MinIO: its URL; default: $AWS_ENDPOINT_URL_S3,\n"
	    "                          $AWS_ENDPOINT_URL, the profile's endpoint_url,\n"
	    "                          else AWS)\n"
	    "  --s3-region REGION      default: $AWS_REGION, $AWS_DEFAULT_REGION, the\n"
	    "                          profile's region, else us-east-1\n"
	    "  --s3-profile NAME       profile of ~/.aws/credentials and ~/.aws/config\n"
	    "                          (default: $AWS_PROFILE, else default); keys come\n"
	    "                          from $AWS_ACCESS_KEY_ID, $AWS_SECRET_ACCESS_KEY and\n"
	    "                          $AWS_SESSION_TOKEN, else from the profile\n"
	    "  --s3-credentials FILE   the keys from this file instead, in the form of\n"
	    "                          ~/.aws/credentials (the profile's section): keeps\n"
	    "                          them off the command line and the environment\n"
	    "  --s3-addressing HOW     path (bucket in the path, the default with an\n"
	    "                          endpoint) or virtual-host (bucket.host, AWS's)\n"
	    "  --progress WHEN         live step status on stderr: auto (default: when\n"
	    "                          stderr is a terminal, TERM is not dumb and no -q),\n"
	    "                          always or never\n"
	    "  -q, --quiet             only errors on stderr\n"
	    "  -v, --verbose           more logging (repeat for debug)\n"
	    "  -h, --help              this text\n"
	    "\n"
	    "exit status: 0 success, 1 the workflow failed, 2 invalid document or inputs,\n"
	    "3 Docker unreachable, 33 unsupported CWL feature.\n");
}

static void
run_done(void *arg, int status, json_t *outputs, const char *msg)
{
	struct run_result *r = arg;

	r->done = 1;
	r->status = status;
	r->outputs = outputs ? json_incref(outputs) : NULL;
	r->msg = msg ? xstrdup(msg) : NULL;
	event_base_loopbreak(r->base);
}

/* Waits on the loop for one asynchronous job of cwld run (the inputs'
 * fetch, the outputs' upload): fetch_cb and upload_cb alike. */
struct run_wait {
	int done;
	char *error;
	struct event_base *base;
};

static void
run_wait_done(void *arg, const char *error)
{
	struct run_wait *w = arg;

	if (w->done)
		return; /* already ended (cancelled by a signal) */
	w->done = 1;
	w->error = error != NULL ? xstrdup(error) : NULL;
	event_base_loopbreak(w->base);
}

/* Runs the loop until w is done; 0, or -1 with err (what names the job). */
static int
run_wait_for(struct run_wait *w, const char *what, struct cwld_err *err)
{
	while (!w->done && event_base_dispatch(w->base) == 0 && !w->done)
		;
	if (!w->done)
		return err_set(err, CWLD_EXIT_FAILED, "%s: the event loop ended first", what);
	if (w->error != NULL)
		return err_set(err, CWLD_EXIT_FAILED, "%s", w->error);
	return 0;
}

/* Looks at the job's s3:// inputs (and downloads into RUN_DIR/inputs
 * what the start reads: fetch_inputs); 0, or -1 with err. Blocks on the
 * loop: nothing else runs yet. */
static int
run_fetch_inputs(struct event_base *base, struct fetch *f, json_t *process, json_t *job,
    struct cwld_err *err)
{
	struct run_wait w = { 0, NULL, base };
	struct timespec t0, t1;
	long objects = 0;
	long long bytes = 0;
	int rc = -1;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (fetch_inputs(f, process, job, run_wait_done, &w, err) == NULL)
		goto out;
	if (run_wait_for(&w, "fetching inputs", err) == 0) {
		fetch_stats(f, &objects, &bytes);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		log_info("s3:// inputs checked in %.2f s; %ld object%s (%lld bytes) fetched "
		    "now, the rest as steps need them", (double)(t1.tv_sec - t0.tv_sec) +
		    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9, objects, objects == 1 ? "" : "s",
		    bytes);
		rc = 0;
	}
out:
	free(w.error);
	return rc;
}

/* Checks that the output location can take the outputs (upload_probe);
 * 0, or -1 with err. Blocks on the loop: nothing runs yet. */
static int
run_probe_dest(struct event_base *base, const char *dest,
    const struct s3_config *cfg, struct cwld_err *err)
{
	struct run_wait w = { 0, NULL, base };
	struct upload_probe *p;
	int rc = -1;

	p = upload_probe_start(base, dest, cfg, run_wait_done, &w, err);
	if (p != NULL)
		rc = run_wait_for(&w, "checking the output location", err);
	upload_probe_free(p);
	free(w.error);
	return rc;
}

/* What SIGINT and SIGTERM stop: the run, then its transfers. */
struct run_sig {
	struct sched *s;
	struct run_wait *up; /* while the outputs come down or go up */
};

/* A download's wait, which a signal may end before its callback comes. */
struct run_fetch_wait {
	struct run_wait w;
	int called;
};

static void
run_fetch_done(void *arg, const char *error)
{
	struct run_fetch_wait *fw = arg;

	fw->called = 1;
	run_wait_done(&fw->w, error);
}

/* Downloads the s3:// Files and Directories among the outputs (inputs
 * passed straight through) and points them at the copies; 0, or -1 with
 * err. Blocks on the loop: the run has finished. */
static int
run_fetch_outputs(struct event_base *base, struct fetch *f, json_t *outputs,
    struct run_sig *sig, struct cwld_err *err)
{
	struct run_fetch_wait fw = { { 0, NULL, base }, 0 };
	struct fetch_op *op;
	int rc = -1;

	if ((op = fetch_value(f, outputs, run_fetch_done, &fw, err)) != NULL) {
		sig->up = &fw.w;
		rc = run_wait_for(&fw.w, "fetching outputs from S3", err);
		sig->up = NULL;
		if (!fw.called)
			fetch_op_cancel(op); /* a signal ended the wait */
	}
	free(fw.w.error);
	return rc;
}

/* Uploads the outputs (relocated under outdir) to dest and rewrites them
 * to s3:// locations; 0, or -1 with err (outputs then unchanged). Blocks
 * on the loop: the run has finished. */
static int
run_upload_outputs(struct event_base *base, json_t *outputs, const char *outdir,
    const char *dest, const struct s3_config *cfg, struct run_sig *sig,
    struct cwld_err *err)
{
	struct run_wait w = { 0, NULL, base };
	struct upload *u;
	struct timespec t0, t1;
	long objects = 0;
	long long bytes = 0;
	int rc = -1;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	u = upload_start(base, outputs, outdir, dest, cfg, run_wait_done, &w, err);
	if (u == NULL)
		goto out;
	sig->up = &w;
	rc = run_wait_for(&w, "uploading outputs", err);
	sig->up = NULL;
	if (rc == 0) {
		upload_stats(u, &objects, &bytes);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		log_info("uploaded %ld object%s (%lld bytes) to %s in %.2f s", objects,
		    objects == 1 ? "" : "s", bytes, dest, (double)(t1.tv_sec - t0.tv_sec) +
		    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	}
	/* the multipart uploads begun are aborted before we exit */
	if (u != NULL && rc < 0)
		upload_drain(u, 10000);
out:
	upload_free(u);
	free(w.error);
	return rc;
}

/* The run failed after its steps: recorded so, with why. */
static void
run_record_failure(struct store *st, const char *run_id, const char *why)
{
	struct cwld_err err = { 0 };

	if (store_run_set_state(st, run_id, STORE_FAILED, NULL, &err) < 0 ||
	    store_run_set_error(st, run_id, why, &err) < 0)
		log_warnx("run %s: %s", run_id, err.msg);
}

static void
run_signal_cb(evutil_socket_t sig, short what, void *arg)
{
	struct run_sig *rs = arg;

	(void)what;
	if (rs->up != NULL && !rs->up->done) {
		log_warnx("%s received: cancelling the transfers", sig == SIGINT ? "SIGINT" : "SIGTERM");
		run_wait_done(rs->up, "cancelled");
		return;
	}
	log_warnx("%s received: cancelling the run", sig == SIGINT ? "SIGINT" : "SIGTERM");
	sched_cancel(rs->s);
}

int
cmd_run(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "outdir", required_argument, NULL, 'o' },
		{ "parallel", required_argument, NULL, 'p' },
		{ "cores", required_argument, NULL, 'c' },
		{ "ram", required_argument, NULL, 'm' },
		{ "state-dir", required_argument, NULL, 's' },
		{ "no-container", no_argument, NULL, 'N' },
		{ "force-docker", no_argument, NULL, 'F' },
		{ "default-container", required_argument, NULL, 'D' },
		{ "build-missing", no_argument, NULL, 'B' },
		{ "leave-workdir", no_argument, NULL, 'L' },
		{ "work-dir", required_argument, NULL, 'W' },
		{ "cache-dir", required_argument, NULL, 'C' },
		{ "progress", required_argument, NULL, 'P' },
		{ "s3-endpoint", required_argument, NULL, 'E' },
		{ "s3-region", required_argument, NULL, 'R' },
		{ "s3-profile", required_argument, NULL, 'S' },
		{ "s3-credentials", required_argument, NULL, 'K' },
		{ "s3-addressing", required_argument, NULL, 'A' },
		{ "output-location", required_argument, NULL, 'O' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct cwld_err err = { 0 };
	struct load_ctx *lc = NULL;
	struct store *st = NULL;
	struct sched *s = NULL;
	struct event_base *base = NULL;
	struct event *sigint = NULL, *sigterm = NULL;
	struct run_sig rsig = { 0 };
	struct progress_tty *prog = NULL;
	struct run_result res = { 0 };
	struct sched_opts so = { 0 };
	struct s3_config s3cfg = { 0 };
	struct fetch *fetch = NULL;
	json_t *process = NULL, *job = NULL, *inputs = NULL;
	char *job_path = NULL;
	char *state_dir = NULL, *run_dir = NULL, *db = NULL, *run_id = NULL, *outdir = NULL;
	char *cache_dir = NULL;
	const char *opt_state = NULL, *opt_outdir = NULL, *opt_cache = NULL, *opt_work = NULL;
	const char *opt_dest = NULL;
	int ch, rc = CWLD_EXIT_USAGE, leave = 0, verbosity = 1;
	int njob, ninput, i, want_inputs_help = 0;
	int progress = PROGRESS_TTY_AUTO, fetched = 0;
	long parallel = sysconf(_SC_NPROCESSORS_ONLN);
	char *end;

	so.parallel = 0;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "+qvh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'o': opt_outdir = optarg; break;
		case 'p':
			parallel = strtol(optarg, &end, 10);
			if (*end != '\0' || parallel < 1 || parallel > 4096) {
				fprintf(stderr, "cwld run: --parallel wants a number from 1 to 4096, not '%s'\n", optarg);
				return CWLD_EXIT_USAGE;
			}
			break;
		case 'c':
			if (cli_parse_cores("run", optarg, &so.budget.cores) < 0)
				return CWLD_EXIT_USAGE;
			break;
		case 'm':
			if (cli_parse_ram("run", optarg, &so.budget.ram_mib) < 0)
				return CWLD_EXIT_USAGE;
			break;
		case 's': opt_state = optarg; break;
		case 'N': so.no_container = 1; break;
		case 'F': so.force_docker = 1; break;
		case 'D': so.default_container = optarg; break;
		case 'B': so.build_missing = 1; break;
		case 'L': leave = 1; break;
		case 'W': opt_work = optarg; break;
		case 'C': opt_cache = optarg; break;
		case 'P':
			if ((progress = progress_tty_mode_parse(optarg)) < 0) {
				fprintf(stderr, "cwld run: --progress wants auto, always or never, not '%s'\n", optarg);
				return CWLD_EXIT_USAGE;
			}
			break;
		case 'E': s3cfg.endpoint = optarg; break;
		case 'R': s3cfg.region = optarg; break;
		case 'S': s3cfg.profile = optarg; break;
		case 'K': s3cfg.credentials_file = optarg; break;
		case 'A':
			if (cli_parse_s3_addressing("run", optarg, &s3cfg.addressing) < 0)
				return CWLD_EXIT_USAGE;
			break;
		case 'O': opt_dest = optarg; break;
		case 'q': verbosity = 0; break;
		case 'v': verbosity++; break;
		case 'h': run_usage(stdout); return CWLD_EXIT_OK;
		default: run_usage(stderr); return CWLD_EXIT_USAGE;
		}
	}
	log_set_level(verbosity);
	if (argc - optind < 1) {
		run_usage(stderr);
		return CWLD_EXIT_USAGE;
	}
	if (opt_dest != NULL) {
		char *b = NULL, *p = NULL;

		/* a typo is caught before the run, not after it */
		if (upload_parse_dest(opt_dest, &b, &p, &err) < 0) {
			fprintf(stderr, "cwld run: --output-location: %s\n", err.msg);
			return CWLD_EXIT_USAGE;
		}
		free(b);
		free(p);
	}
	/* PROCESS [JOB] [--input value ...]: the job is the one argument after
	 * the process that is not an option */
	njob = argc - optind >= 2 && strncmp(argv[optind + 1], "--", 2) != 0 &&
	    strcmp(argv[optind + 1], "-h") != 0 ? 1 : 0;
	ninput = argc - optind - 1 - njob;
	for (i = 0; i < ninput; i++)
		if (strcmp(argv[optind + 1 + njob + i], "--help") == 0 ||
		    strcmp(argv[optind + 1 + njob + i], "-h") == 0)
			want_inputs_help = 1;
	if (so.default_container && !so.no_container)
		so.force_docker = 1; /* as the reference runner: an image for every tool */

	lc = load_ctx_new();
	process = load_process(lc, argv[optind], &err);
	if (process == NULL) {
		fprintf(stderr, "%s\n", err.msg);
		rc = err.code ? err.code : CWLD_EXIT_USAGE;
		goto out;
	}
	if (want_inputs_help) {
		printf("usage: cwld run [OPTIONS] %s [JOB] [--INPUT VALUE ...]\n\n", argv[optind]);
		cli_inputs_usage(process, stdout);
		rc = CWLD_EXIT_OK;
		goto out;
	}
	if (njob) {
		/* cwltest passes file:// URIs; the job file is read as a path. */
		if (strncmp(argv[optind + 1], "file:", 5) == 0) {
			job_path = uri_to_path(argv[optind + 1]);
			if (job_path == NULL) {
				fprintf(stderr, "cwld run: cannot read job '%s'\n", argv[optind + 1]);
				goto out;
			}
		} else
			job_path = xstrdup(argv[optind + 1]);
		job = load_job(lc, job_path, &err);
		if (job == NULL) {
			fprintf(stderr, "%s\n", err.msg);
			rc = err.code ? err.code : CWLD_EXIT_USAGE;
			goto out;
		}
	} else
		job = json_object();
	{
		char *cwd = fs_abspath(".");
		int ok = cli_inputs_parse(process, job, ninput,
		    (const char *const *)argv + optind + 1 + njob, cwd, &err);

		free(cwd);
		if (ok < 0) {
			fprintf(stderr, "cwld run: %s\n", err.msg);
			rc = CWLD_EXIT_USAGE;
			goto out;
		}
	}
	/* Requirements given in the job document apply to the process and
	 * override its own (they come last, and the last entry wins). */
	if (json_is_array(json_object_get(job, "cwl:requirements"))) {
		json_t *r = json_object_get(process, "requirements");
		if (!json_is_array(r)) {
			r = json_array();
			json_object_set_new(process, "requirements", r);
		}
		json_array_extend(r, json_object_get(job, "cwl:requirements"));
	}
	state_dir = cli_state_dir(opt_state);
	run_id = store_new_run_id();
	if (opt_work) {
		char *w = fs_abspath(opt_work);

		run_dir = xasprintf("%s/%s", w, run_id);
		free(w);
	} else {
		run_dir = xasprintf("%s/runs/%s", state_dir, run_id);
	}
	db = xasprintf("%s/cwld.db", state_dir);
	base = event_base_new();
	if (base == NULL) {
		fprintf(stderr, "cwld run: cannot create event loop\n");
		rc = CWLD_EXIT_FAILED;
		goto out;
	}
	/* a bucket that cannot take the outputs fails the run now, not after
	 * its last step */
	if (opt_dest && run_probe_dest(base, opt_dest, &s3cfg, &err) < 0) {
		fprintf(stderr, "cwld run: %s\n", err.msg);
		rc = err.code ? err.code : CWLD_EXIT_FAILED;
		goto out;
	}
	/* s3:// inputs: each looked at now (a missing one fails the run before
	 * its first step), downloaded when a step needs it */
	{
		char *dir = xasprintf("%s/inputs", run_dir);

		fetch = fetch_new(base, dir, &s3cfg);
		free(dir);
		if (fetch == NULL) {
			fprintf(stderr, "cwld run: cannot create an event\n");
			rc = CWLD_EXIT_FAILED;
			goto out;
		}
	}
	if (fetch_count(process, job) > 0) {
		fetched = 1;
		if (run_fetch_inputs(base, fetch, process, job, &err) < 0) {
			fprintf(stderr, "cwld run: %s\n", err.msg);
			rc = err.code ? err.code : CWLD_EXIT_FAILED;
			goto out;
		}
	}
	{
		char *cwd = fs_abspath(".");
		char *slashed = xasprintf("%s/", cwd);
		char *jbase = job_path ? uri_from_path(job_path) : uri_from_path(slashed);
		inputs = sched_fill_inputs(process, NULL, NULL, job, jbase, 0, &err);
		free(jbase);
		free(slashed);
		free(cwd);
	}
	if (inputs == NULL) {
		fprintf(stderr, "%s: %s\n", njob ? argv[optind + 1] : argv[optind], err.msg);
		rc = err.code ? err.code : CWLD_EXIT_USAGE;
		goto out;
	}
	if (fs_mkdir_p(state_dir, &err) < 0 || fs_mkdir_p(run_dir, &err) < 0 ||
	    (st = store_open(db, &err)) == NULL) {
		fprintf(stderr, "cwld run: %s\n", err.msg);
		rc = CWLD_EXIT_FAILED;
		goto out;
	}
	if (store_run_create(st, run_id, json_string_value(json_object_get(process, "id")),
	    inputs, &err) < 0 || store_run_set_state(st, run_id, STORE_RUNNING, NULL, &err) < 0) {
		fprintf(stderr, "cwld run: %s\n", err.msg);
		rc = CWLD_EXIT_FAILED;
		goto out;
	}
	log_info("run %s started (state in %s)", run_id, db);

	res.base = base;
	so.run_id = run_id;
	so.run_dir = run_dir;
	so.parallel = (int)parallel;
	cache_dir = opt_cache ? fs_abspath(opt_cache) : NULL;
	so.cache_dir = cache_dir;
	so.fetch = fetch;
	if ((s = sched_new(base, st, &so, &err)) == NULL) {
		fprintf(stderr, "cwld run: %s\n", err.msg);
		rc = CWLD_EXIT_FAILED;
		goto out;
	}
	rsig.s = s;
	sigint = evsignal_new(base, SIGINT, run_signal_cb, &rsig);
	sigterm = evsignal_new(base, SIGTERM, run_signal_cb, &rsig);
	if (sigint)
		evsignal_add(sigint, NULL);
	if (sigterm)
		evsignal_add(sigterm, NULL);
	if (progress_tty_wanted(progress, verbosity == 0, STDERR_FILENO))
		prog = progress_tty_start(base, s, STDERR_FILENO);
	if (sched_process_start(s, process, inputs, "", NULL, NULL, run_done, &res, &err) < 0) {
		progress_tty_finish(prog);
		prog = NULL;
		fprintf(stderr, "cwld run: %s\n", err.msg);
		store_run_set_state(st, run_id, STORE_FAILED, NULL, &err);
		rc = err.code ? err.code : CWLD_EXIT_FAILED;
		goto out;
	}
	/* Everything happens in callbacks; the loop ends when nothing is left. */
	while (!res.done && event_base_dispatch(base) == 0 && !res.done)
		;
	sched_store_flush(s); /* the steps' last states, before the run's */
	/* The status block goes before anything else is printed. */
	progress_tty_finish(prog);
	prog = NULL;
	if (!res.done) {
		fprintf(stderr, "cwld run: run %s: the event loop ended before the run finished\n", run_id);
		rc = CWLD_EXIT_FAILED;
		goto out;
	}
	if (res.status != 0) {
		fprintf(stderr, "cwld run: run %s %s: %s\n", run_id,
		    sched_cancelled(s) ? "cancelled" : "failed", res.msg ? res.msg : "");
		/* The reason stays with the run, not only on this terminal. */
		if (store_run_set_state(st, run_id, sched_cancelled(s) ? STORE_CANCELLED : STORE_FAILED,
		    NULL, &err) < 0 || store_run_set_error(st, run_id, res.msg ? res.msg : "failed", &err) < 0)
			log_warnx("run %s: %s", run_id, err.msg);
		rc = res.status == CWLD_EXIT_USAGE || res.status == CWLD_EXIT_UNSUPPORTED ||
		    res.status == CWLD_EXIT_UNREACHABLE ? res.status : CWLD_EXIT_FAILED;
		goto out;
	}
	/* outputs bound for S3 and no --outdir: staged in the work dir,
	 * which goes with it */
	if (opt_outdir)
		outdir = xstrdup(opt_outdir);
	else if (opt_dest)
		outdir = fs_join(run_dir, "outputs");
	else
		outdir = fs_abspath(".");
	if (fetch_has_remote(res.outputs) &&
	    run_fetch_outputs(base, fetch, res.outputs, &rsig, &err) < 0) {
		char *why = xasprintf("fetching the outputs from S3: %s", err.msg);

		fprintf(stderr, "cwld run: run %s failed: %s\n", run_id, why);
		run_record_failure(st, run_id, why);
		free(why);
		rc = CWLD_EXIT_FAILED;
		goto out;
	}
	if (relocate_outputs_from(res.outputs, outdir, run_dir, &err) < 0) {
		fprintf(stderr, "cwld run: run %s: cannot move outputs to %s: %s\n", run_id, outdir, err.msg);
		store_run_set_state(st, run_id, STORE_FAILED, NULL, &err);
		rc = CWLD_EXIT_FAILED;
		goto out;
	}
	if (opt_dest && run_upload_outputs(base, res.outputs, outdir, opt_dest, &s3cfg, &rsig, &err) < 0) {
		char *why = xasprintf("uploading the outputs to %s: %s", opt_dest, err.msg);

		fprintf(stderr, "cwld run: run %s failed: %s (the outputs are in %s)\n", run_id,
		    why, outdir);
		run_record_failure(st, run_id, why);
		free(why);
		rc = CWLD_EXIT_FAILED;
		goto out;
	}
	if (store_run_set_state(st, run_id, STORE_SUCCESS, res.outputs, &err) < 0)
		log_warnx("run %s: %s", run_id, err.msg);
	{
		char *text = expr_json_text_indent(res.outputs, 4); /* decimals, never 1e-05 */
		printf("%s\n", text ? text : "{}");
		fflush(stdout);
		free(text);
	}
	fetch_log_total(fetch, run_id);
	log_info("run %s finished: success", run_id);
	fetched = 0; /* the work dir below goes, or stays, as for any run */
	if (!leave && fs_rm_rf(run_dir, &err) < 0)
		log_warnx("run %s: cannot remove work dir: %s", run_id, err.msg);
	rc = CWLD_EXIT_OK;
out:
	/* downloaded inputs of a run that never started */
	if (fetched && st == NULL && run_dir != NULL && fs_rm_rf(run_dir, &err) < 0)
		log_warnx("cannot remove %s: %s", run_dir, err.msg);
	progress_tty_finish(prog);
	if (sigint)
		event_free(sigint);
	if (sigterm)
		event_free(sigterm);
	sched_free(s); /* its jobs' waits go before the fetch */
	fetch_free(fetch);
	if (base)
		event_base_free(base);
	store_close(st);
	json_decref(res.outputs);
	free(res.msg);
	json_decref(process);
	json_decref(job);
	json_decref(inputs);
	load_ctx_free(lc);
	free(job_path);
	free(state_dir);
	free(run_dir);
	free(db);
	free(run_id);
	free(outdir);
	free(cache_dir);
	return rc;
}
