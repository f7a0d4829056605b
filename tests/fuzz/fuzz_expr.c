/* libFuzzer target for expressions without JavaScript: the scanner, escapes,
 * parameter references and interpolation must evaluate or fail cleanly, and
 * text without an expression or backslash must come back unchanged. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cwld/expr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static json_t *inputs, *self, *runtime;
	struct cwld_err err = { 0 };
	char *text;
	json_t *v;

	if (inputs == NULL) {
		inputs = json_pack("{s:s,s:i,s:[i,i,i],s:{s:s,s:s},s:n,s:{s:{s:[s]}}}",
		    "x", "hello", "n", 3, "arr", 1, 2, 3,
		    "f", "class", "File", "path", "/in/a.txt", "nul",
		    "rec", "a", "b", "deep");
		self = json_pack("[{s:s}]", "contents", "c");
		runtime = json_pack("{s:s,s:i}", "outdir", "/out", "cores", 2);
	}
	text = malloc(size + 1);
	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	v = expr_eval_flags(NULL, text, inputs, self, runtime, EXPR_KEEP_SPACE, &err);
	if (v == NULL) {
		if (err.msg[0] == '\0')
			__builtin_trap();
	} else if (!expr_has_expression(text) && strchr(text, '\\') == NULL) {
		if (!json_is_string(v) || strcmp(json_string_value(v), text) != 0)
			__builtin_trap();
	}
	json_decref(v);
	free(text);
	return 0;
}
