/* YAML (and JSON, a subset) text into jansson trees, remembering where each
 * node came from so every later error can say file:line:col. */
#ifndef CWLD_YAML_H
#define CWLD_YAML_H
#include <stddef.h>
#include <jansson.h>
#include "cwld/err.h"

/* Limits that keep hostile input bounded. */
#define YAML_MAX_BYTES (64u * 1024 * 1024)
#define YAML_MAX_DEPTH 256

/* Position table: json_t node -> file:line:col. It holds a reference to every
 * node it records so a pointer can never be reused by another node while the
 * map lives. Singletons (true/false/null) are not recorded. */
struct yaml_srcmap;

struct yaml_srcmap *yaml_srcmap_new(void);
void yaml_srcmap_free(struct yaml_srcmap *map); /* NULL does nothing */
/* Records node's position (file is copied/interned). */
void yaml_srcmap_add(struct yaml_srcmap *map, const json_t *node, const char *file,
    int line, int col);
/* 0 and fills the out-params (file borrowed from the map) when node is known,
 * -1 otherwise. Lines and columns start at 1. */
int yaml_srcmap_find(const struct yaml_srcmap *map, const json_t *node,
    const char **file, int *line, int *col);

/* Parses one YAML document (the first if several). Returns a new reference,
 * or NULL with err "file:line:col: what is wrong" (code CWLD_EXIT_USAGE).
 * Scalars follow YAML 1.2 core schema: plain true/false, null/~/empty,
 * integers and floats become JSON types; quoted scalars stay strings.
 * Anchors/aliases are expanded (with a cap against alias bombs). map may be
 * NULL. `file` is used in messages and the map. */
json_t *yaml_parse(const char *text, size_t len, const char *file,
    struct yaml_srcmap *map, struct cwld_err *err);
/* Reads and parses a file (at most YAML_MAX_BYTES). */
json_t *yaml_parse_file(const char *path, struct yaml_srcmap *map,
    struct cwld_err *err);

#endif
