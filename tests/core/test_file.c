/* test_file.c: det_file_read reads whole files of any size, NUL-terminates
 * them, and reports a missing file with errno and no message. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/error.h"
#include "core/file.h"
#include "tests/tap.h"

int main(void)
{
	char path[] = "/tmp/detbench_file_XXXXXX", *buf;
	size_t len, n = 100000;
	int fd = mkstemp(path);
	FILE *f = fd >= 0 ? fdopen(fd, "wb") : NULL;

	if (!ok(f != NULL, "temp file"))
		return tap_done();
	fclose(f);
	ok(det_file_read(path, &buf, &len) == 0 && len == 0 && buf && buf[0] == '\0', "an empty file: 0 bytes, NUL");
	free(buf);

	f = fopen(path, "wb");
	for (size_t i = 0; i < n; i++)
		fputc('a' + (int)(i % 26), f);
	fclose(f);
	int same = det_file_read(path, &buf, &len) == 0 && len == n && buf[n] == '\0';
	for (size_t i = 0; same && i < n; i++)
		same = buf[i] == 'a' + (int)(i % 26);
	ok(same, "100000 bytes come back whole (buffer grown past its first 8 KiB)");
	free(buf);
	unlink(path);

	det_error_clear();
	ok(det_file_read(path, &buf, &len) == DET_EIO && errno == ENOENT && buf == NULL,
	   "a missing file: DET_EIO, errno ENOENT");
	ok(det_error_code() == 0, "and no message set (the caller words it)");
	return tap_done();
}
