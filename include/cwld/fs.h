/* Filesystem helpers: paths, directories, whole-file reads, checksums. */
#ifndef CWLD_FS_H
#define CWLD_FS_H
#include <stddef.h>
#include <stdint.h>
#include "cwld/err.h"

/* mkdir -p with mode 0755; 0 or -1 with err. */
int fs_mkdir_p(const char *path, struct cwld_err *err);
/* rm -rf; a missing path is not an error. */
int fs_rm_rf(const char *path, struct cwld_err *err);
/* Copies a file (or a directory tree when recursive). */
int fs_copy(const char *src, const char *dst, struct cwld_err *err);
/* Reads a whole file, at most max bytes (error if larger); returns a new
 * NUL-terminated buffer, length in *len (may be NULL). */
char *fs_read_file(const char *path, size_t max, size_t *len, struct cwld_err *err);
/* Writes atomically: temp file in the same directory, fsync, rename. */
int fs_write_file_atomic(const char *path, const char *data, size_t len, struct cwld_err *err);
/* "sha1$<hex>" of a file's content into out (at least 46 bytes). */
int fs_sha1_file(const char *path, char *out, size_t outlen, struct cwld_err *err);
int fs_is_dir(const char *path);
int fs_exists(const char *path);
/* 1 when path is a directory with nothing in it, else 0. */
int fs_dir_is_empty(const char *path);
int64_t fs_file_size(const char *path); /* -1 when missing */
/* New string: dirname / basename without touching the argument. */
char *fs_dirname(const char *path);
char *fs_basename(const char *path);
/* New string: a joined with b by one '/'; b absolute wins. */
char *fs_join(const char *a, const char *b);
/* New string: absolute, normalised path ("." and ".." removed) without
 * resolving symlinks; relative paths are taken from the current directory. */
char *fs_abspath(const char *path);
/* Creates a fresh unique directory under parent with the given prefix; new string. */
char *fs_mkdtemp(const char *parent, const char *prefix, struct cwld_err *err);

#endif
