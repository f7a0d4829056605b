/* libFuzzer target for the multipart/form-data reader: any body (and any
 * Content-Type, taken from the input's first line when it has one) must parse
 * or fail cleanly, never read past its length, and parts must be
 * well-formed copies no larger in sum than the body. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cwld/multipart.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cwld_err err = { 0 };
	struct multipart_part *parts = NULL;
	const uint8_t *nl = memchr(data, '\n', size < 256 ? size : 256);
	char ct[257] = "multipart/form-data; boundary=b";
	size_t n = 0, i, total = 0;
	char *body;

	/* A first line starting with "ct:" is the Content-Type; otherwise a
	 * short fixed boundary lets the fuzzer reach the parts quickly. */
	if (nl != NULL && nl - data >= 3 && memcmp(data, "ct:", 3) == 0) {
		memcpy(ct, data + 3, (size_t)(nl - data) - 3);
		ct[nl - data - 3] = '\0';
		size -= (size_t)(nl - data) + 1;
		data = nl + 1;
	}
	/* An exact-size copy, so ASan sees any read past the end. */
	body = malloc(size > 0 ? size : 1);
	if (body == NULL)
		return 0;
	memcpy(body, data, size);
	if (multipart_parse(ct, body, size, &parts, &n, &err) == 0) {
		if (err.code != 0 || (n == 0) != (parts == NULL))
			__builtin_trap();
		for (i = 0; i < n; i++) {
			if (parts[i].name == NULL || parts[i].name[0] == '\0' ||
			    parts[i].data == NULL ||
			    parts[i].data[parts[i].len] != '\0' ||
			    parts[i].len > size)
				__builtin_trap();
			total += parts[i].len;
			if (multipart_find(parts, n, parts[i].name) > &parts[i])
				__builtin_trap();
		}
		if (total > size || n > MULTIPART_MAX_PARTS)
			__builtin_trap();
	} else if (err.code != CWLD_EXIT_USAGE || err.msg[0] == '\0' ||
	    parts != NULL || n != 0) {
		__builtin_trap();
	}
	multipart_free(parts, n);
	free(body);
	return 0;
}
