/* cwld serve: the daemon in the foreground. One event loop carries the HTTP
 * server, the runs' schedulers, containers and outbound HTTP; SIGINT or
 * SIGTERM stops it cleanly. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "cwld/cli.h"
#include "cwld/confine.h"
#include "cwld/docker.h"
#include "cwld/err.h"
#include "cwld/fs.h"
#include "cwld/log.h"
#include "cwld/mirror.h"
#include "cwld/runs.h"
#include "cwld/server.h"
#include "cwld/store.h"
#include "cwld/xmalloc.h"

#ifndef CWLD_VERSION
#define CWLD_VERSION "0.1.0"
#endif

static void
serve_usage(FILE *f)
{
	fprintf(f,
	    "usage: cwld serve [OPTIONS]\n"
	    "\n"
	    "Runs the cwld daemon in the foreground: an HTTP API to submit, list, follow\n"
	    "and cancel runs (docs/api.md; the OpenAPI document at /openapi.json), with\n"
	    "live Server-Sent Events. Runs execute in this process, many at once, tool\n"
	    "invocations bounded by --slots, --cores and --ram; their state is in\n"
	    "STATE/cwld.db. SIGINT or SIGTERM stops the daemon without cancelling\n"
	    "anything: containers go on, and the next `cwld serve` on the same state dir\n"
	    "resumes the unfinished runs (steps that succeeded are not run again,\n"
	    "containers still there are taken over); the same after a crash or kill -9.\n"
	    "\n"
	    "options:\n"
	    "  --listen ADDR:PORT   where to listen (default 127.0.0.1:8080; port 0 picks\n"
	    "                       a free one). The address is printed on stdout as\n"
	    "                       'listening on http://ADDR:PORT'\n"
	    "  --token TOKEN        requests must carry 'Authorization: Bearer TOKEN'\n"
	    "                       (default $CWLD_TOKEN); required unless ADDR is loopback\n"
	    "  --root DIR           workflows and inputs given as paths must be inside DIR\n"
	    "                       (repeatable; default: the current directory); relative\n"
	    "                       paths start at the first\n"
	    "  --state-dir DIR      database, documents, outputs and work dirs (default:\n"
	    "                       $CWLD_STATE_DIR, else $XDG_DATA_HOME/cwld or\n"
	    "                       ~/.local/share/cwld)\n"
	    "  --work-dir DIR       step directories (default: STATE/runs)\n"
	    "  --slots N            tool invocations at once, all runs (default: cores)\n"
	    "  --parallel N         a run's own limit when it gives none (default: slots)\n"
	    "  --cores N            cores the running tools of all runs may reserve\n"
	    "                       together (fractions allowed; default: the machine's\n"
	    "                       online CPUs, sysconf _SC_NPROCESSORS_ONLN)\n"
	    "  --ram MIB            memory in MiB they may reserve together (default: the\n"
	    "                       machine's physical memory, _SC_PHYS_PAGES x\n"
	    "                       _SC_PAGESIZE). A tool reserves the coresMin and ramMin\n"
	    "                       of its ResourceRequirement (coresMax, ramMax when only\n"
	    "                       those are given) and waits until they are free, runs\n"
	    "                       taking turns; tools without one count only against\n"
	    "                       --slots and their run's parallel. A tool asking for\n"
	    "                       more than the budget runs alone, with a warning\n"
	    "  --max-body BYTES     request body limit (default 8388608)\n"
	    "  --cache-dir DIR      reuse tool results cached in DIR\n"
	    "  --s3-endpoint URL    S3-compatible server for runs' s3:// inputs and their\n"
	    "                       output_location (MinIO: its URL; default:\n"
	    "                       $AWS_ENDPOINT_URL_S3, $AWS_ENDPOINT_URL, the profile's\n"
	    "                       endpoint_url, else AWS)\n"
	    "  --s3-region REGION   default: $AWS_REGION, $AWS_DEFAULT_REGION, the\n"
	    "                       profile's region, else us-east-1\n"
	    "  --s3-profile NAME    profile of ~/.aws/credentials and ~/.aws/config\n"
	    "                       (default: $AWS_PROFILE, else default); keys come from\n"
	    "                       $AWS_ACCESS_KEY_ID, $AWS_SECRET_ACCESS_KEY and\n"
	    "                       $AWS_SESSION_TOKEN, else from the profile. One set of\n"
	    "                       settings for all runs, read at start\n"
	    "  --s3-credentials FILE  the keys from this file instead, in the form of\n"
	    "                       ~/.aws/credentials (the profile's section)\n"
	    "  --s3-addressing HOW  path (bucket in the path, the default with an\n"
	    "                       endpoint) or virtual-host (bucket.host, AWS's)\n"
	    "  --airflow-url URL    mirror every run into the Apache Airflow (2.x or 3.x)\n"
	    "                       at URL: a paused DAG per workflow, a DAG run per run,\n"
	    "                       task states as steps finish (docs/airflow.md)\n"
	    "  --airflow-dags-folder DIR  Airflow's DAG folder (required with --airflow-url)\n"
	    "  --airflow-user USER, --airflow-password PW  Airflow's credentials (default\n"
	    "                       $CWLD_AIRFLOW_USER, $CWLD_AIRFLOW_PASSWORD)\n"
	    "  --airflow-link-url URL  the daemon's URL in Airflow notes' log links\n"
	    "                       (default http://ADDR:PORT of --listen)\n"
	    "  -q, --quiet          only errors on stderr\n"
	    "  -v, --verbose        more logging (repeat for debug)\n"
	    "  -h, --help           this text\n");
}

static void
serve_signal_cb(evutil_socket_t sig, short what, void *arg)
{
	(void)what;
	log_info("%s received: stopping", sig == SIGINT ? "SIGINT" : "SIGTERM");
	event_base_loopbreak(arg);
}

static long
serve_number(const char *opt, const char *v, long min, long max)
{
	char *end;
	long n = strtol(v, &end, 10);

	if (*end || n < min || n > max) {
		fprintf(stderr, "cwld serve: %s wants a number from %ld to %ld, not '%s'\n", opt,
		    min, max, v);
		return -1;
	}
	return n;
}

int
cmd_serve(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "token", required_argument, NULL, 't' },
		{ "root", required_argument, NULL, 'r' },
		{ "state-dir", required_argument, NULL, 's' },
		{ "work-dir", required_argument, NULL, 'W' },
		{ "slots", required_argument, NULL, 'S' },
		{ "parallel", required_argument, NULL, 'p' },
		{ "cores", required_argument, NULL, 'c' },
		{ "ram", required_argument, NULL, 'm' },
		{ "max-body", required_argument, NULL, 'b' },
		{ "cache-dir", required_argument, NULL, 'C' },
		{ "airflow-url", required_argument, NULL, 'A' },
		{ "airflow-dags-folder", required_argument, NULL, 'D' },
		{ "airflow-user", required_argument, NULL, 'U' },
		{ "airflow-password", required_argument, NULL, 'P' },
		{ "airflow-link-url", required_argument, NULL, 'L' },
		{ "s3-endpoint", required_argument, NULL, 'E' },
		{ "s3-region", required_argument, NULL, 'R' },
		{ "s3-profile", required_argument, NULL, 'F' },
		{ "s3-credentials", required_argument, NULL, 'K' },
		{ "s3-addressing", required_argument, NULL, 'Z' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct cwld_err err = { 0 };
	struct server_opts so = { 0 };
	struct runs_opts ro = { 0 };
	struct confine *roots = confine_new();
	struct event_base *base = NULL;
	struct event *sigint = NULL, *sigterm = NULL;
	struct store *st = NULL;
	struct runs *runs = NULL;
	struct server *srv = NULL;
	struct mirror_opts mo = { 0 };
	struct mirror *mirror = NULL;
	char *link_url = NULL;
	const char *opt_state = NULL, *opt_work = NULL, *opt_cache = NULL;
	char *state_dir = NULL, *db = NULL, *work_dir = NULL, *cache_dir = NULL;
	char *real_state = NULL;
	long slots = sysconf(_SC_NPROCESSORS_ONLN), parallel = 0, max_body = 8L << 20;
	int ch, nroots = 0, verbosity = 1, rc = CWLD_EXIT_USAGE, s3_flags = 0;

	so.listen = "127.0.0.1:8080";
	so.token = getenv("CWLD_TOKEN");
	mo.user = getenv("CWLD_AIRFLOW_USER");
	mo.password = getenv("CWLD_AIRFLOW_PASSWORD");
	optind = 1;
	while ((ch = getopt_long(argc, argv, "qvh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'l': so.listen = optarg; break;
		case 't': so.token = optarg; break;
		case 'r':
			if (confine_add_root(roots, optarg, &err) < 0) {
				fprintf(stderr, "cwld serve: --root %s: %s\n", optarg, err.msg);
				goto out;
			}
			nroots++;
			break;
		case 's': opt_state = optarg; break;
		case 'W': opt_work = optarg; break;
		case 'S': if ((slots = serve_number("--slots", optarg, 1, 4096)) < 0) goto out; break;
		case 'p': if ((parallel = serve_number("--parallel", optarg, 1, 4096)) < 0) goto out; break;
		case 'c': if (cli_parse_cores("serve", optarg, &ro.cores) < 0) goto out; break;
		case 'm': if (cli_parse_ram("serve", optarg, &ro.ram_mib) < 0) goto out; break;
		case 'b':
			if ((max_body = serve_number("--max-body", optarg, 1024, 1L << 30)) < 0)
				goto out;
			break;
		case 'C': opt_cache = optarg; break;
		case 'A': mo.airflow_url = optarg; break;
		case 'D': mo.dags_folder = optarg; break;
		case 'U': mo.user = optarg; break;
		case 'P': mo.password = optarg; break;
		case 'L': mo.daemon_url = optarg; break;
		case 'E': ro.s3.endpoint = optarg; s3_flags++; break;
		case 'R': ro.s3.region = optarg; s3_flags++; break;
		case 'F': ro.s3.profile = optarg; s3_flags++; break;
		case 'K': ro.s3.credentials_file = optarg; s3_flags++; break;
		case 'Z':
			s3_flags++;
			if (cli_parse_s3_addressing("serve", optarg, &ro.s3.addressing) < 0)
				goto out;
			break;
		case 'q': verbosity = 0; break;
		case 'v': verbosity++; break;
		case 'h': serve_usage(stdout); rc = CWLD_EXIT_OK; goto out;
		default: serve_usage(stderr); goto out;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "cwld serve: unexpected argument '%s'\n", argv[optind]);
		serve_usage(stderr);
		goto out;
	}
	if ((mo.airflow_url == NULL) != (mo.dags_folder == NULL)) {
		fprintf(stderr, "cwld serve: --airflow-url and --airflow-dags-folder go together\n");
		goto out;
	}
	log_set_level(verbosity);
	if (nroots == 0 && confine_add_root(roots, ".", &err) < 0) {
		fprintf(stderr, "cwld serve: the current directory as root: %s\n", err.msg);
		goto out;
	}
	rc = CWLD_EXIT_FAILED;
	state_dir = cli_state_dir(opt_state);
	db = fs_join(state_dir, "cwld.db");
	work_dir = opt_work ? fs_abspath(opt_work) : NULL;
	cache_dir = opt_cache ? fs_abspath(opt_cache) : NULL;
	if (fs_mkdir_p(state_dir, &err) < 0 || (st = store_open(db, &err)) == NULL) {
		fprintf(stderr, "cwld serve: %s\n", err.msg);
		goto out;
	}
	/* the containers' mark of this daemon: one spelling of the directory
	 * for every daemon that will run on it */
	if ((real_state = realpath(state_dir, NULL)) == NULL) {
		fprintf(stderr, "cwld serve: %s: %s\n", state_dir, strerror(errno));
		goto out;
	}
	docker_owner_set_state(real_state);
	/* a client that goes away mid-answer must not kill the daemon */
	signal(SIGPIPE, SIG_IGN);
	if ((base = event_base_new()) == NULL) {
		fprintf(stderr, "cwld serve: cannot create the event loop\n");
		goto out;
	}
	ro.state_dir = state_dir;
	ro.work_dir = work_dir;
	ro.slots = (int)slots;
	ro.default_parallel = (int)(parallel ? parallel : slots);
	ro.cache_dir = cache_dir;
	{
		/* read once at start: bad --s3-* settings stop it here rather
		 * than fail the first run; without them a daemon that never
		 * sees S3 does not care (each run's client reads them again) */
		struct s3_resolved sr = { 0 };

		if (s3_resolve(&ro.s3, &sr, &err) < 0) {
			if (s3_flags) {
				fprintf(stderr, "cwld serve: S3 settings: %s\n", err.msg);
				rc = CWLD_EXIT_USAGE;
				goto out;
			}
			log_warnx("S3 settings: %s (runs with s3:// locations will fail)", err.msg);
		} else
			log_debug("S3: %s, region %s, credentials from %s", sr.endpoint,
			    sr.region, sr.cred_source);
		s3_resolved_release(&sr);
	}
	if ((runs = runs_new(base, st, &ro, &err)) == NULL) {
		fprintf(stderr, "cwld serve: %s\n", err.msg);
		goto out;
	}
	{
		int n = runs_recover(runs, &err);

		if (n < 0) {
			fprintf(stderr, "cwld serve: %s\n", err.msg);
			goto out;
		}
		if (n > 0)
			log_info("resumed %d run(s) the previous daemon left unfinished", n);
	}
	so.max_body = (size_t)max_body;
	so.state_dir = state_dir;
	so.version = CWLD_VERSION;
	if ((srv = server_new(base, &so, runs, st, roots, &err)) == NULL) {
		fprintf(stderr, "cwld serve: %s\n", err.msg);
		rc = err.code ? err.code : CWLD_EXIT_FAILED;
		goto out;
	}
	if (mo.airflow_url) {
		/* after the server: the log links in notes carry its address */
		if (mo.daemon_url == NULL)
			mo.daemon_url = link_url = xasprintf("http://%s", server_address(srv));
		if ((mirror = mirror_new(base, st, &mo, &err)) == NULL ||
		    runs_add_observer(runs, mirror_observer(), mirror) < 0) {
			fprintf(stderr, "cwld serve: %s\n", mirror ? "too many run observers" : err.msg);
			rc = err.code ? err.code : CWLD_EXIT_FAILED;
			goto out;
		}
	}
	sigint = evsignal_new(base, SIGINT, serve_signal_cb, base);
	sigterm = evsignal_new(base, SIGTERM, serve_signal_cb, base);
	if (sigint == NULL || sigterm == NULL || evsignal_add(sigint, NULL) < 0 ||
	    evsignal_add(sigterm, NULL) < 0) {
		fprintf(stderr, "cwld serve: cannot catch SIGINT/SIGTERM\n");
		goto out;
	}
	printf("listening on http://%s\n", server_address(srv));
	fflush(stdout);
	log_info("serving on http://%s (state in %s, %ld slots, %g cores, %lld MiB)",
	    server_address(srv), state_dir, slots,
	    (double)sched_pool_millicores(runs_pool(runs)) / 1000,
	    (long long)sched_pool_ram_mib(runs_pool(runs)));
	event_base_dispatch(base);
	/* stopping is not cancelling: the next daemon resumes what runs */
	runs_detach(runs);
	rc = CWLD_EXIT_OK;
out:
	/* the server first (no new requests), then the runs (detached: what runs
	 * goes on for the next daemon) */
	server_free(srv);
	/* the mirror's rows stay in the store: the next daemon sends them */
	if (mirror && runs)
		runs_remove_observer(runs, mirror_observer(), mirror);
	mirror_free(mirror);
	runs_free(runs);
	if (sigint)
		event_free(sigint);
	if (sigterm)
		event_free(sigterm);
	store_close(st);
	if (base)
		event_base_free(base);
	confine_free(roots);
	free(state_dir);
	free(real_state);
	docker_owner_set_state(NULL);
	free(db);
	free(work_dir);
	free(cache_dir);
	free(link_url);
	return rc;
}
