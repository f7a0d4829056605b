/* Filesystem helpers: recursive mkdir/remove/copy, whole-file reads, atomic
 * writes, sha1 checksums and pure string path manipulation. Staging inputs and
 * collecting outputs (CWL rules) is left to the exec and cwl modules. */
#include <sys/stat.h>
#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "cwld/fs.h"
#include "cwld/xmalloc.h"

#define FS_MAX_DEPTH 512

static int fs_rm_at(int dfd, const char *name, const char *path, int depth,
    struct cwld_err *err);
static int fs_copy_file(const char *src, const char *dst, mode_t mode,
    struct cwld_err *err);
static int fs_copy_tree(const char *src, const char *dst, int depth,
    struct cwld_err *err);
static int fs_write_all(int fd, const char *data, size_t len);

int
fs_mkdir_p(const char *path, struct cwld_err *err)
{
	char *buf = NULL;
	char *p;
	int rc = -1;
	struct stat st;

	if (path == NULL || *path == '\0')
		return err_set(err, CWLD_EXIT_USAGE, "mkdir: empty path");
	/* the parent usually exists: one call instead of one per component */
	if ((mkdir(path, 0755) == 0 || errno == EEXIST) && stat(path, &st) == 0 &&
	    S_ISDIR(st.st_mode))
		return 0;
	buf = xstrdup(path);
	for (p = buf + 1; ; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char c = *p;
		*p = '\0';
		if (mkdir(buf, 0755) == -1 && errno != EEXIST) {
			err_set(err, CWLD_EXIT_FAILED, "mkdir '%s': %s", buf,
			    strerror(errno));
			goto out;
		}
		*p = c;
		if (c == '\0')
			break;
	}
	if (stat(path, &st) == -1 || !S_ISDIR(st.st_mode)) {
		err_set(err, CWLD_EXIT_FAILED, "mkdir '%s': not a directory",
		    path);
		goto out;
	}
	rc = 0;
out:
	free(buf);
	return rc;
}

static int
fs_rm_at(int dfd, const char *name, const char *path, int depth,
    struct cwld_err *err)
{
	struct stat st;
	struct dirent *de;
	DIR *d = NULL;
	char *sub = NULL;
	int fd = -1;
	int rc = -1;

	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == -1) {
		if (errno == ENOENT)
			return 0;
		return err_set(err, CWLD_EXIT_FAILED, "stat '%s': %s", path,
		    strerror(errno));
	}
	if (!S_ISDIR(st.st_mode)) {
		if (unlinkat(dfd, name, 0) == -1 && errno != ENOENT)
			return err_set(err, CWLD_EXIT_FAILED, "unlink '%s': %s",
			    path, strerror(errno));
		return 0;
	}
	if (depth > FS_MAX_DEPTH)
		return err_set(err, CWLD_EXIT_FAILED, "remove '%s': too deep",
		    path);
	/* Read-only directories (outputs of containers) are made writable. */
	if ((st.st_mode & 0700) != 0700)
		(void)fchmodat(dfd, name, (st.st_mode & 07777) | 0700, 0);
	fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1) {
		err_set(err, CWLD_EXIT_FAILED, "open '%s': %s", path,
		    strerror(errno));
		goto out;
	}
	if ((d = fdopendir(fd)) == NULL) {
		err_set(err, CWLD_EXIT_FAILED, "opendir '%s': %s", path,
		    strerror(errno));
		goto out;
	}
	fd = -1; /* owned by d */
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		free(sub);
		sub = xasprintf("%s/%s", path, de->d_name);
		if (fs_rm_at(dirfd(d), de->d_name, sub, depth + 1, err) == -1)
			goto out;
	}
	if (unlinkat(dfd, name, AT_REMOVEDIR) == -1 && errno != ENOENT) {
		err_set(err, CWLD_EXIT_FAILED, "rmdir '%s': %s", path,
		    strerror(errno));
		goto out;
	}
	rc = 0;
out:
	free(sub);
	if (d != NULL)
		closedir(d);
	if (fd != -1)
		close(fd);
	return rc;
}

int
fs_rm_rf(const char *path, struct cwld_err *err)
{
	if (path == NULL || *path == '\0')
		return err_set(err, CWLD_EXIT_USAGE, "remove: empty path");
	return fs_rm_at(AT_FDCWD, path, path, 0, err);
}

static int
fs_write_all(int fd, const char *data, size_t len)
{
	ssize_t n;

	while (len > 0) {
		n = write(fd, data, len);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

static int
fs_copy_file(const char *src, const char *dst, mode_t mode,
    struct cwld_err *err)
{
	char buf[65536];
	int in = -1, out_fd = -1;
	int rc = -1;
	ssize_t n;

	if ((in = open(src, O_RDONLY | O_CLOEXEC)) == -1) {
		err_set(err, CWLD_EXIT_FAILED, "open '%s': %s", src,
		    strerror(errno));
		goto out;
	}
	out_fd = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    mode & 0777);
	if (out_fd == -1) {
		err_set(err, CWLD_EXIT_FAILED, "create '%s': %s", dst,
		    strerror(errno));
		goto out;
	}
	for (;;) {
		n = read(in, buf, sizeof buf);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			err_set(err, CWLD_EXIT_FAILED, "read '%s': %s", src,
			    strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		if (fs_write_all(out_fd, buf, (size_t)n) == -1) {
			err_set(err, CWLD_EXIT_FAILED, "write '%s': %s", dst,
			    strerror(errno));
			goto out;
		}
	}
	if (close(out_fd) == -1) {
		out_fd = -1;
		err_set(err, CWLD_EXIT_FAILED, "close '%s': %s", dst,
		    strerror(errno));
		goto out;
	}
	out_fd = -1;
	rc = 0;
out:
	if (in != -1)
		close(in);
	if (out_fd != -1)
		close(out_fd);
	return rc;
}

static int
fs_copy_tree(const char *src, const char *dst, int depth, struct cwld_err *err)
{
	struct stat st;
	struct dirent *de;
	DIR *d = NULL;
	char *s = NULL, *t = NULL;
	int rc = -1;

	if (stat(src, &st) == -1)
		return err_set(err, CWLD_EXIT_FAILED, "stat '%s': %s", src,
		    strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return fs_copy_file(src, dst, st.st_mode, err);
	if (depth > FS_MAX_DEPTH)
		return err_set(err, CWLD_EXIT_FAILED, "copy '%s': too deep",
		    src);
	if (mkdir(dst, 0755) == -1 && errno != EEXIST)
		return err_set(err, CWLD_EXIT_FAILED, "mkdir '%s': %s", dst,
		    strerror(errno));
	if ((d = opendir(src)) == NULL) {
		err_set(err, CWLD_EXIT_FAILED, "opendir '%s': %s", src,
		    strerror(errno));
		goto out;
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		free(s);
		free(t);
		s = xasprintf("%s/%s", src, de->d_name);
		t = xasprintf("%s/%s", dst, de->d_name);
		if (fs_copy_tree(s, t, depth + 1, err) == -1)
			goto out;
	}
	rc = 0;
out:
	free(s);
	free(t);
	if (d != NULL)
		closedir(d);
	return rc;
}

int
fs_copy(const char *src, const char *dst, struct cwld_err *err)
{
	return fs_copy_tree(src, dst, 0, err);
}

char *
fs_read_file(const char *path, size_t max, size_t *len, struct cwld_err *err)
{
	char *buf = NULL;
	char *ret = NULL;
	size_t cap = 0, used = 0, limit;
	ssize_t n;
	int fd = -1;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		err_set(err, CWLD_EXIT_USAGE, "open '%s': %s", path,
		    strerror(errno));
		goto out;
	}
	/* Room for max + 1 bytes, so a larger file is noticed, plus the NUL. */
	limit = max < SIZE_MAX - 2 ? max + 2 : SIZE_MAX;
	for (;;) {
		if (used + 1 >= cap) {
			if (cap >= limit) {
				err_set(err, CWLD_EXIT_USAGE,
				    "read '%s': larger than %zu bytes", path,
				    max);
				goto out;
			}
			cap = cap == 0 ? 8192 : cap * 2;
			if (cap > limit)
				cap = limit;
			buf = xreallocarray(buf, cap, 1);
		}
		n = read(fd, buf + used, cap - used - 1);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			err_set(err, CWLD_EXIT_USAGE, "read '%s': %s", path,
			    strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		used += (size_t)n;
		if (used > max) {
			err_set(err, CWLD_EXIT_USAGE,
			    "read '%s': larger than %zu bytes", path, max);
			goto out;
		}
	}
	if (buf == NULL)
		buf = xmalloc(1);
	buf[used] = '\0';
	if (len != NULL)
		*len = used;
	ret = buf;
	buf = NULL;
out:
	free(buf);
	if (fd != -1)
		close(fd);
	return ret;
}

int
fs_write_file_atomic(const char *path, const char *data, size_t len,
    struct cwld_err *err)
{
	char *tmp = NULL;
	int fd = -1;
	int rc = -1;

	tmp = xasprintf("%s.tmpXXXXXX", path);
	if ((fd = mkstemp(tmp)) == -1) {
		err_set(err, CWLD_EXIT_FAILED, "create '%s': %s", tmp,
		    strerror(errno));
		free(tmp);
		tmp = NULL;
		goto out;
	}
	(void)fchmod(fd, 0644);
	if (fs_write_all(fd, data, len) == -1 || fsync(fd) == -1) {
		err_set(err, CWLD_EXIT_FAILED, "write '%s': %s", tmp,
		    strerror(errno));
		goto out;
	}
	if (close(fd) == -1) {
		fd = -1;
		err_set(err, CWLD_EXIT_FAILED, "close '%s': %s", tmp,
		    strerror(errno));
		goto out;
	}
	fd = -1;
	if (rename(tmp, path) == -1) {
		err_set(err, CWLD_EXIT_FAILED, "rename '%s' to '%s': %s", tmp,
		    path, strerror(errno));
		goto out;
	}
	free(tmp);
	tmp = NULL;
	rc = 0;
out:
	if (fd != -1)
		close(fd);
	if (tmp != NULL) {
		(void)unlink(tmp);
		free(tmp);
	}
	return rc;
}

int
fs_sha1_file(const char *path, char *out, size_t outlen, struct cwld_err *err)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	char buf[65536];
	EVP_MD_CTX *ctx = NULL;
	ssize_t n;
	int fd = -1;
	int rc = -1;
	unsigned int i;

	if (outlen < 46)
		return err_set(err, CWLD_EXIT_FAILED, "sha1: buffer too small");
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		err_set(err, CWLD_EXIT_FAILED, "open '%s': %s", path,
		    strerror(errno));
		goto out;
	}
	if ((ctx = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(ctx, EVP_sha1(), NULL) != 1) {
		err_set(err, CWLD_EXIT_FAILED, "sha1 '%s': digest init failed",
		    path);
		goto out;
	}
	for (;;) {
		n = read(fd, buf, sizeof buf);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			err_set(err, CWLD_EXIT_FAILED, "read '%s': %s", path,
			    strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		if (EVP_DigestUpdate(ctx, buf, (size_t)n) != 1) {
			err_set(err, CWLD_EXIT_FAILED, "sha1 '%s': update failed",
			    path);
			goto out;
		}
	}
	if (EVP_DigestFinal_ex(ctx, md, &mdlen) != 1 || mdlen != 20) {
		err_set(err, CWLD_EXIT_FAILED, "sha1 '%s': final failed", path);
		goto out;
	}
	memcpy(out, "sha1$", 5);
	for (i = 0; i < mdlen; i++) {
		out[5 + 2 * i] = hex[md[i] >> 4];
		out[5 + 2 * i + 1] = hex[md[i] & 0xf];
	}
	out[5 + 2 * mdlen] = '\0';
	rc = 0;
out:
	EVP_MD_CTX_free(ctx);
	if (fd != -1)
		close(fd);
	return rc;
}

int
fs_is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int
fs_dir_is_empty(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	int empty = 1;

	if (d == NULL)
		return 0;
	while (empty && (e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			empty = 0;
	closedir(d);
	return empty;
}

int
fs_exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

int64_t
fs_file_size(const char *path)
{
	struct stat st;

	if (stat(path, &st) == -1)
		return -1;
	return (int64_t)st.st_size;
}

char *
fs_dirname(const char *path)
{
	size_t n = strlen(path);

	while (n > 1 && path[n - 1] == '/')
		n--;
	while (n > 0 && path[n - 1] != '/')
		n--;
	if (n == 0)
		return xstrdup(".");
	while (n > 1 && path[n - 1] == '/')
		n--;
	return xstrndup(path, n);
}

char *
fs_basename(const char *path)
{
	size_t end = strlen(path), start;

	if (end == 0)
		return xstrdup(".");
	while (end > 1 && path[end - 1] == '/')
		end--;
	if (end == 1 && path[0] == '/')
		return xstrdup("/");
	start = end;
	while (start > 0 && path[start - 1] != '/')
		start--;
	return xstrndup(path + start, end - start);
}

char *
fs_join(const char *a, const char *b)
{
	size_t n;

	if (b[0] == '/' || a[0] == '\0')
		return xstrdup(b);
	if (b[0] == '\0')
		return xstrdup(a);
	n = strlen(a);
	while (n > 1 && a[n - 1] == '/')
		n--;
	if (n == 1 && a[0] == '/')
		return xasprintf("/%s", b);
	return xasprintf("%.*s/%s", (int)n, a, b);
}

char *
fs_abspath(const char *path)
{
	char *full = NULL, *out = NULL, *cwd = NULL;
	size_t i, o, start, len;

	if (path[0] == '/') {
		full = xstrdup(path);
	} else {
		if ((cwd = getcwd(NULL, 0)) == NULL)
			cwd = xstrdup("/");
		full = xasprintf("%s/%s", cwd, path);
	}
	len = strlen(full);
	out = xmalloc(len + 2);
	o = 0;
	i = 0;
	while (i < len) {
		while (i < len && full[i] == '/')
			i++;
		start = i;
		while (i < len && full[i] != '/')
			i++;
		if (i == start)
			break;
		if (i - start == 1 && full[start] == '.')
			continue;
		if (i - start == 2 && full[start] == '.' &&
		    full[start + 1] == '.') {
			while (o > 0 && out[o - 1] != '/')
				o--;
			if (o > 0)
				o--; /* drop the '/' too */
			continue;
		}
		out[o++] = '/';
		memcpy(out + o, full + start, i - start);
		o += i - start;
	}
	if (o == 0)
		out[o++] = '/';
	out[o] = '\0';
	free(full);
	free(cwd);
	return out;
}

char *
fs_mkdtemp(const char *parent, const char *prefix, struct cwld_err *err)
{
	char *tmpl = NULL;
	char *ret = NULL;

	if (fs_mkdir_p(parent, err) == -1)
		goto out;
	tmpl = xasprintf("%s/%sXXXXXX", parent, prefix);
	if (mkdtemp(tmpl) == NULL) {
		err_set(err, CWLD_EXIT_FAILED, "mkdtemp '%s': %s", tmpl,
		    strerror(errno));
		goto out;
	}
	ret = tmpl;
	tmpl = NULL;
out:
	free(tmpl);
	return ret;
}
