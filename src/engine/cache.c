/* Work reuse: the key of a CommandLineTool invocation (sha256 of a
 * canonical JSON document of its command line, environment, image, streams,
 * input contents, staged work directory and outputs section, with this
 * attempt's own paths normalised out) and the cache directory of completed
 * output directories under that key. When to look up, restore and save is
 * job.c's; output collection after a hit is outputs.c's as after a run. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <openssl/evp.h>

#include "cwld/cache.h"
#include "cwld/fs.h"
#include "cwld/params.h"
#include "cwld/uri.h"
#include "cwld/xmalloc.h"

/* Bumped whenever the key document changes meaning. */
#define CACHE_FORMAT 1
/* Directory trees hashed at most this deep (symlink loops). */
#define CACHE_MAX_DEPTH 64
/* A cwl.output.json rewritten on restore is read up to this size. */
#define CACHE_MAX_OUTPUT_JSON (64 * 1024 * 1024)
/* fs_mkdtemp's random suffix */
#define CACHE_MKDTEMP_RANDOM 6

struct cache_sub {
	const char *from;
	const char *to;
	size_t len;
	int jobdir;  /* mask mkdtemp suffixes right under it */
};

static int
cache_sub_cmp(const void *a, const void *b)
{
	const struct cache_sub *x = a, *y = b;

	return x->len < y->len ? 1 : x->len > y->len ? -1 : 0;
}

static void
cache_sub_add(struct cache_sub *subs, size_t *n, const char *from, const char *to,
    int jobdir)
{
	size_t len;

	if (from == NULL || (len = strlen(from)) == 0 || strcmp(from, "/") == 0)
		return;
	while (len > 1 && from[len - 1] == '/')
		len--;
	subs[*n].from = from;
	subs[*n].to = to;
	subs[*n].len = len;
	subs[*n].jobdir = jobdir;
	(*n)++;
}

char *
cache_normalise(const struct cache_job *cj, const char *s)
{
	struct cache_sub subs[5];
	size_t n = 0, i, k, cl;
	char *buf = NULL;
	size_t blen = 0;
	FILE *f;
	const char *p, *c;

	if (s == NULL)
		return NULL;
	cache_sub_add(subs, &n, cj->outdir, "\x01outdir\x01", 0);
	cache_sub_add(subs, &n, cj->tmpdir, "\x01tmpdir\x01", 0);
	cache_sub_add(subs, &n, cj->jobdir, "\x01jobdir\x01", 1);
	cache_sub_add(subs, &n, cj->rundir, "\x01rundir\x01", 0);
	cache_sub_add(subs, &n, cj->run_id, "\x01runid\x01", 0);
	/* Longest first: outdir and tmpdir lie inside jobdir, jobdir inside
	 * rundir, and rundir holds the run id. */
	qsort(subs, n, sizeof subs[0], cache_sub_cmp);
	if ((f = open_memstream(&buf, &blen)) == NULL)
		return xstrdup(s);
	for (p = s; *p;) {
		for (i = 0; i < n; i++)
			if (strncmp(p, subs[i].from, subs[i].len) == 0)
				break;
		if (i == n) {
			fputc(*p++, f);
			continue;
		}
		fputs(subs[i].to, f);
		p += subs[i].len;
		if (!subs[i].jobdir || *p != '/')
			continue;
		/* "<jobdir>/stgXXXXXX/...": keep the prefix, mask the rest */
		c = p + 1;
		cl = strspn(c, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-");
		if (cl <= CACHE_MKDTEMP_RANDOM)
			continue;
		fputc('/', f);
		for (k = 0; k < cl - CACHE_MKDTEMP_RANDOM; k++)
			fputc(c[k], f);
		fputc('*', f);
		p = c + cl;
	}
	if (fclose(f) != 0 || buf == NULL) {
		free(buf);
		return xstrdup(s);
	}
	return buf;
}

static json_t *
cache_norm_json(const struct cache_job *cj, const char *s)
{
	char *t;
	json_t *v;

	if (s == NULL)
		return json_null();
	t = cache_normalise(cj, s);
	v = json_string(t);
	free(t);
	return v ? v : json_null();
}

static json_t *
cache_tree_at(const char *path, int depth, struct cwld_err *err)
{
	struct stat st;
	struct dirent *de;
	DIR *d = NULL;
	json_t *obj = NULL, *sub;
	char *child = NULL;
	char sum[64];
	char link[PATH_MAX];
	ssize_t ln;

	if (stat(path, &st) == -1) {
		/* a dangling symlink is content too: its target */
		if ((ln = readlink(path, link, sizeof link - 1)) >= 0) {
			link[ln] = '\0';
			return json_sprintf("symlink:%s", link);
		}
		err_set(err, CWLD_EXIT_FAILED, "stat '%s': %s", path, strerror(errno));
		return NULL;
	}
	if (S_ISREG(st.st_mode)) {
		if (fs_sha1_file(path, sum, sizeof sum, err) < 0)
			return NULL;
		return json_string(sum);
	}
	if (!S_ISDIR(st.st_mode))
		return json_string("special");
	if (depth > CACHE_MAX_DEPTH) {
		err_set(err, CWLD_EXIT_FAILED, "'%s': directory tree too deep", path);
		return NULL;
	}
	if ((d = opendir(path)) == NULL) {
		err_set(err, CWLD_EXIT_FAILED, "opendir '%s': %s", path, strerror(errno));
		return NULL;
	}
	obj = json_object();
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		free(child);
		child = fs_join(path, de->d_name);
		if ((sub = cache_tree_at(child, depth + 1, err)) == NULL) {
			json_decref(obj);
			obj = NULL;
			goto out;
		}
		json_object_set_new(obj, de->d_name, sub);
	}
out:
	free(child);
	closedir(d);
	return obj;
}

json_t *
cache_tree(const char *path, struct cwld_err *err)
{
	return cache_tree_at(path, 0, err);
}

struct cache_walk {
	const struct cache_job *cj;
	struct cwld_err *err;
};

/* Turns a File or Directory (in a copy of the inputs) into what its
 * content is: checksum or tree, basename and the other fields, no paths. */
static int
cache_canon_file(json_t *obj, void *arg)
{
	struct cache_walk *w = arg;
	const char *cls = json_string_value(json_object_get(obj, "class"));
	const char *p = json_string_value(json_object_get(obj, "path"));
	const char *loc = json_string_value(json_object_get(obj, "location"));
	char *lp = NULL;
	char sum[64];
	json_t *tree;
	int rc = -1;

	if (p == NULL && loc && (lp = uri_to_path(loc)) != NULL)
		p = lp;
	if (cls && strcmp(cls, "File") == 0) {
		if (!json_is_string(json_object_get(obj, "checksum")) && p && fs_exists(p)) {
			if (fs_sha1_file(p, sum, sizeof sum, w->err) < 0)
				goto out;
			json_object_set_new(obj, "checksum", json_string(sum));
		} else if (!json_is_string(json_object_get(obj, "checksum")) &&
		    !json_object_get(obj, "contents")) {
			err_set(w->err, CWLD_EXIT_FAILED, "input file '%s' cannot be read",
			    p ? p : loc ? loc : "?");
			goto out;
		}
	} else if (p && fs_is_dir(p)) {
		if ((tree = cache_tree(p, w->err)) == NULL)
			goto out;
		json_object_set_new(obj, "cwld:tree", tree);
		json_object_del(obj, "listing");
	}
	json_object_del(obj, "location");
	json_object_del(obj, "path");
	json_object_del(obj, "dirname");
	rc = 0;
out:
	free(lp);
	return rc;
}

json_t *
cache_key_doc(const struct cache_job *cj, struct cwld_err *err)
{
	json_t *doc = NULL, *argv, *env, *inputs = NULL, *mounts, *ret = NULL, *tree;
	struct cache_walk w = { cj, err };
	size_t i;

	argv = json_array();
	for (i = 0; i < json_array_size(cj->argv); i++)
		json_array_append_new(argv, cache_norm_json(cj,
		    json_string_value(json_array_get(cj->argv, i))));
	env = json_object();
	for (i = 0; cj->envv && cj->envv[i]; i++) {
		const char *eq = strchr(cj->envv[i], '=');
		char *name = eq ? xstrndup(cj->envv[i], (size_t)(eq - cj->envv[i])) :
		    xstrdup(cj->envv[i]);

		json_object_set_new(env, name, cache_norm_json(cj, eq ? eq + 1 : ""));
		free(name);
	}
	doc = json_pack("{s:i, s:o, s:o, s:s?, s:s?, s:o, s:s?, s:s?}",
	    "cwld_cache", CACHE_FORMAT, "argv", argv, "env", env,
	    "image", cj->image, "image_id", cj->image_id,
	    "stdin", cache_norm_json(cj, cj->stdin_path),
	    "stdout", cj->stdout_name, "stderr", cj->stderr_name);
	if (doc == NULL) {
		err_set(err, CWLD_EXIT_FAILED, "cannot build the cache key");
		goto out;
	}
	json_object_set_new(doc, "outputs", cj->tool_outputs ?
	    json_deep_copy(cj->tool_outputs) : json_null());
	json_object_set_new(doc, "extra", cj->extra ? json_deep_copy(cj->extra) : json_null());
	inputs = cj->inputs ? json_deep_copy(cj->inputs) : json_object();
	if (params_walk_files(inputs, cache_canon_file, &w) != 0)
		goto out;
	json_object_set(doc, "inputs", inputs);
	if (cj->workdir) {
		if ((tree = cache_tree(cj->workdir, err)) == NULL)
			goto out;
		json_object_set_new(doc, "workdir", tree);
	}
	mounts = json_array();
	json_object_set_new(doc, "mounts", mounts);
	for (i = 0; i < json_array_size(cj->mounts); i++) {
		const json_t *m = json_array_get(cj->mounts, i);
		const char *src = json_string_value(json_array_get(m, 0));

		if (src == NULL || (tree = cache_tree(src, err)) == NULL)
			goto out;
		json_array_append_new(mounts, json_pack("[o,b,o]",
		    cache_norm_json(cj, json_string_value(json_array_get(m, 1))),
		    json_is_true(json_array_get(m, 2)), tree));
	}
	ret = doc;
	doc = NULL;
out:
	json_decref(doc);
	json_decref(inputs);
	return ret;
}

int
cache_key(const struct cache_job *cj, char *key, struct cwld_err *err)
{
	static const char hex[] = "0123456789abcdef";
	json_t *doc;
	char *text = NULL;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0, i;
	int rc = -1;

	key[0] = '\0';
	if ((doc = cache_key_doc(cj, err)) == NULL)
		return -1;
	text = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
	if (text == NULL || EVP_Digest(text, strlen(text), md, &mdlen, EVP_sha256(), NULL) != 1 ||
	    mdlen * 2 != CACHE_KEY_LEN) {
		err_set(err, CWLD_EXIT_FAILED, "cannot hash the cache key");
		goto out;
	}
	for (i = 0; i < mdlen; i++) {
		key[2 * i] = hex[md[i] >> 4];
		key[2 * i + 1] = hex[md[i] & 0xf];
	}
	key[2 * mdlen] = '\0';
	rc = 0;
out:
	free(text);
	json_decref(doc);
	return rc;
}

/* Keys name directories: only what cache_key makes is accepted. */
static int
cache_key_ok(const char *key, struct cwld_err *err)
{
	if (key == NULL || strlen(key) != CACHE_KEY_LEN ||
	    strspn(key, "0123456789abcdef") != CACHE_KEY_LEN)
		return err_set(err, CWLD_EXIT_USAGE, "invalid cache key '%s'", key ? key : "");
	return 0;
}

int
cache_lookup(const char *dir, const char *key, json_t **record, struct cwld_err *err)
{
	char *entry = NULL, *rec = NULL, *out = NULL;
	json_error_t je;
	int rc = -1;

	*record = NULL;
	if (cache_key_ok(key, err) < 0)
		return -1;
	entry = fs_join(dir, key);
	if (!fs_is_dir(entry)) {
		rc = 0;
		goto out;
	}
	rec = fs_join(entry, "outputs.json");
	out = fs_join(entry, "out");
	if (!fs_is_dir(out)) {
		err_set(err, CWLD_EXIT_FAILED, "cache entry '%s' has no out/", entry);
		goto out;
	}
	if ((*record = json_load_file(rec, 0, &je)) == NULL || !json_is_object(*record)) {
		json_decref(*record);
		*record = NULL;
		err_set(err, CWLD_EXIT_FAILED, "%s:%d: %s", rec, je.line, je.text);
		goto out;
	}
	rc = 1;
out:
	free(entry);
	free(rec);
	free(out);
	return rc;
}

/* New string: s with every from replaced by to. */
static char *
cache_replace_all(const char *s, const char *from, const char *to)
{
	char *buf = NULL;
	size_t blen = 0, fl = strlen(from);
	FILE *f;
	const char *p, *q;

	if (fl == 0 || (f = open_memstream(&buf, &blen)) == NULL)
		return xstrdup(s);
	for (p = s; (q = strstr(p, from)) != NULL; p = q + fl) {
		fwrite(p, 1, (size_t)(q - p), f);
		fputs(to, f);
	}
	fputs(p, f);
	if (fclose(f) != 0 || buf == NULL) {
		free(buf);
		return xstrdup(s);
	}
	return buf;
}

int
cache_restore(const char *dir, const char *key, const json_t *record,
    const char *outdir, const char *rt_outdir, struct cwld_err *err)
{
	const char *old_out = json_string_value(json_object_get(record, "outdir"));
	const char *old_rt = json_string_value(json_object_get(record, "rt_outdir"));
	char *src = NULL, *cj = NULL, *text = NULL, *t1 = NULL, *t2 = NULL;
	int rc = -1;

	if (cache_key_ok(key, err) < 0)
		return -1;
	src = xasprintf("%s/%s/out", dir, key);
	if (fs_rm_rf(outdir, err) < 0 || fs_copy(src, outdir, err) < 0)
		goto out;
	/* cwl.output.json may name files by the original attempt's paths */
	cj = fs_join(outdir, "cwl.output.json");
	if ((old_out || old_rt) && fs_exists(cj)) {
		if ((text = fs_read_file(cj, CACHE_MAX_OUTPUT_JSON, NULL, err)) == NULL)
			goto out;
		t1 = old_out ? cache_replace_all(text, old_out, outdir) : xstrdup(text);
		t2 = old_rt && rt_outdir ? cache_replace_all(t1, old_rt, rt_outdir) : xstrdup(t1);
		if (strcmp(t2, text) != 0 && fs_write_file_atomic(cj, t2, strlen(t2), err) < 0)
			goto out;
	}
	rc = 0;
out:
	free(src);
	free(cj);
	free(text);
	free(t1);
	free(t2);
	return rc;
}

int
cache_save(const char *dir, const char *key, const char *outdir,
    const json_t *record, struct cwld_err *err)
{
	char *prefix = NULL, *tmp = NULL, *out = NULL, *rec = NULL, *text = NULL, *entry = NULL;
	struct cwld_err ignored = { 0 };
	int rc = -1;

	if (cache_key_ok(key, err) < 0)
		return -1;
	if (fs_mkdir_p(dir, err) < 0)
		return -1;
	prefix = xasprintf("%s.tmp-%ld-", key, (long)getpid());
	if ((tmp = fs_mkdtemp(dir, prefix, err)) == NULL)
		goto out;
	out = fs_join(tmp, "out");
	rec = fs_join(tmp, "outputs.json");
	text = json_dumps(record, JSON_INDENT(2) | JSON_SORT_KEYS);
	if (fs_copy(outdir, out, err) < 0 ||
	    fs_write_file_atomic(rec, text ? text : "{}", text ? strlen(text) : 2, err) < 0)
		goto out;
	entry = fs_join(dir, key);
	if (rename(tmp, entry) < 0) {
		/* Another run stored the same key first: its entry stays. */
		if (errno == EEXIST || errno == ENOTEMPTY)
			rc = 0;
		else
			err_set(err, CWLD_EXIT_FAILED, "rename '%s' to '%s': %s", tmp, entry,
			    strerror(errno));
		goto out;
	}
	free(tmp);
	tmp = NULL;
	rc = 0;
out:
	if (tmp)
		fs_rm_rf(tmp, &ignored);
	free(prefix);
	free(tmp);
	free(out);
	free(rec);
	free(text);
	free(entry);
	return rc;
}
