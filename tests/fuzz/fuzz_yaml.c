/* libFuzzer target for the YAML loader: any byte string must parse or fail
 * cleanly, and every node handed out must be findable in the srcmap. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "cwld/yaml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cwld_err err = { 0 };
	struct yaml_srcmap *map = yaml_srcmap_new();
	json_t *v;
	char *dump;
	int line, col;

	v = yaml_parse((const char *)data, size, "fuzz.yml", map, &err);
	if (v != NULL) {
		if ((json_is_object(v) || json_is_array(v)) &&
		    yaml_srcmap_find(map, v, NULL, &line, &col) != 0)
			__builtin_trap();
		dump = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
		free(dump);
	} else if (err.code != CWLD_EXIT_USAGE || err.msg[0] == '\0') {
		__builtin_trap();
	}
	json_decref(v);
	yaml_srcmap_free(map);
	return 0;
}
