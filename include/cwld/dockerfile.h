/* Dockerfiles generated from a tool's SoftwareRequirement: its packages are
 * taken as Debian package names and installed with apt-get on a Debian base
 * image. Used by `cwld dockerfile` and `cwld run --build-missing`. */
#ifndef CWLD_DOCKERFILE_H
#define CWLD_DOCKERFILE_H
#include <jansson.h>
#include "cwld/err.h"

#define DOCKERFILE_DEFAULT_BASE "debian:stable-slim"

/* The Dockerfile text for software (borrowed: a SoftwareRequirement in the
 * loader's normalised form, "packages": [ { "package", "version"?: [..],
 * "specs"?: [..] } ]; NULL or no packages gives a Dockerfile of only FROM)
 * on base (NULL: DOCKERFILE_DEFAULT_BASE). Each package is installed with
 * `apt-get install -y --no-install-recommends`, as `name=version` with the
 * first of its versions when it has any; a package named twice is installed
 * once (its first entry). "specs" are not used; a comment line says so. The
 * text depends only on base and the packages, so equal requirements give
 * equal Dockerfiles (and image tags). A name, version or base image that
 * could not be passed to apt-get or FROM as one word is refused: NULL with
 * err (CWLD_EXIT_USAGE). New string. */
char *dockerfile_from_software(const json_t *software, const char *base,
    struct cwld_err *err);

#endif
