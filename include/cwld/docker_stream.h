/* The JSON-lines answers of the Engine API's long calls (pull, build, load,
 * import): bytes as they arrive cut into lines, and a pull's per-layer
 * progress summed up for people. No I/O: docker_image.c feeds it. */
#ifndef CWLD_DOCKER_STREAM_H
#define CWLD_DOCKER_STREAM_H
#include <stddef.h>
#include <jansson.h>

/* ---- lines ------------------------------------------------------------------ */

/* Longest line kept; a longer one (progress noise) is dropped whole. */
#define DOCKER_STREAM_MAX_LINE (64u * 1024)

/* Embedded; zeroed is ready (or docker_stream_init). */
struct docker_stream {
	char *line;
	size_t len, cap;
	int dropping;             /* inside a line over the cap */
};

/* fn gets one line without its '\n' (borrowed for the call). */
typedef void (*docker_stream_line_fn)(void *arg, const char *line, size_t len);

void docker_stream_init(struct docker_stream *s);
/* Frees what s holds; s is then empty and ready again. */
void docker_stream_release(struct docker_stream *s);
/* Takes len more bytes and calls fn for every line they complete; a line
 * may be split across any number of calls. */
void docker_stream_feed(struct docker_stream *s, const char *data, size_t len,
    docker_stream_line_fn fn, void *arg);
/* The end of the answer: a last line without '\n' goes to fn. */
void docker_stream_end(struct docker_stream *s, docker_stream_line_fn fn, void *arg);

/* ---- a pull's progress --------------------------------------------------------- */

/* What a pull has done so far, over the layers it named. Bytes are those
 * downloaded of layers whose size is known ("progressDetail" of their
 * "Downloading" lines); a layer that "Already exists" is done and has no
 * bytes to fetch. */
struct docker_stream_pull_sum {
	long long bytes_done, bytes_total;
	int layers_done, layers_total;
};

struct docker_stream_pull_layer;

/* Embedded; zeroed is ready. */
struct docker_stream_pull {
	struct docker_stream_pull_layer *layers;
	size_t n, cap;
};

/* Takes in one line of a pull's answer (borrowed): a layer's status
 * ("Pulling fs layer", "Waiting", "Downloading", "Verifying Checksum",
 * "Download complete", "Extracting", "Pull complete", "Already exists")
 * with its "id" and "progressDetail". Other lines are ignored. 1 when the
 * sum changed, else 0. */
int docker_stream_pull_line(struct docker_stream_pull *p, const json_t *line);
void docker_stream_pull_sum(const struct docker_stream_pull *p,
    struct docker_stream_pull_sum *sum);
/* "12.3/45.6 MB (2/3 layers)" (no bytes known yet: "(0/3 layers)") into
 * buf, always terminated; returns buf. */
const char *docker_stream_pull_text(const struct docker_stream_pull_sum *sum,
    char *buf, size_t size);
void docker_stream_pull_release(struct docker_stream_pull *p);

#endif
