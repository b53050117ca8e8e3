/* file.c: whole-file reads. */
#include "core/file.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/error.h"

int det_file_read(const char *path, char **buf, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *p = NULL;
	size_t cap = 0, n = 0, got;

	*buf = NULL;
	*len = 0;
	if (f == NULL)
		return DET_EIO;
	for (;;) {
		if (n + 1 >= cap) {
			char *q = realloc(p, cap = cap ? 2 * cap : 8192);

			if (q == NULL) {
				free(p);
				fclose(f);
				return DET_ENOMEM;
			}
			p = q;
		}
		got = fread(p + n, 1, cap - n - 1, f);
		n += got;
		if (got == 0)
			break;
	}
	if (ferror(f)) {
		int err = errno;

		free(p);
		fclose(f);
		errno = err;
		return DET_EIO;
	}
	fclose(f);
	p[n] = '\0';
	*buf = p;
	*len = n;
	return 0;
}
