/* test_atomic.c: a file written through atomic_file appears whole or not
 * at all, and failures name the file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/atomic.h"
#include "core/error.h"
#include "tests/tap.h"

static int read_all(const char *path, char *buf, size_t size)
{
	FILE *f = fopen(path, "rb");
	size_t n;

	if (f == NULL)
		return -1;
	n = fread(buf, 1, size - 1, f);
	buf[n] = '\0';
	fclose(f);
	return (int)n;
}

int main(void)
{
	char dir[] = "/tmp/detbench_atomic_XXXXXX", path[256], tmp[300], buf[64];
	struct atomic_file af;

	if (!ok(mkdtemp(dir) != NULL, "temp dir"))
		return tap_done();
	snprintf(path, sizeof path, "%s/out.json", dir);
	snprintf(tmp, sizeof tmp, "%s.tmp", path);

	ok(atomic_file_open(&af, path) == 0, "open");
	fputs("first", af.f);
	ok(access(path, F_OK) != 0, "nothing at the target before commit");
	ok(atomic_file_commit(&af) == 0, "commit");
	ok(read_all(path, buf, sizeof buf) == 5 && strcmp(buf, "first") == 0, "the target holds what was written");
	ok(access(tmp, F_OK) != 0, "no temporary file left");

	ok(atomic_file_open(&af, path) == 0, "open again");
	fputs("half", af.f);
	atomic_file_abort(&af);
	ok(read_all(path, buf, sizeof buf) == 5 && strcmp(buf, "first") == 0, "abort leaves the previous file");
	ok(access(tmp, F_OK) != 0, "abort removes the temporary file");

	ok(atomic_file_open(&af, "/nonexistent-dir/x.json") == DET_EIO &&
	   strstr(det_error_message(), "/nonexistent-dir/x.json.tmp") != NULL,
	   "a missing directory is named: %s", det_error_message());

	unlink(path);
	rmdir(dir);
	return tap_done();
}
