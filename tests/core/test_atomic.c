/* test_atomic.c: a file written through atomic_file appears whole or not
 * at all, and failures name the file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
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

/* Entries in dir other than "." and "..". */
static int entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	while (d && (e = readdir(d)))
		n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
	if (d)
		closedir(d);
	return n;
}

int main(void)
{
	char dir[] = "/tmp/detbench_atomic_XXXXXX", path[256], buf[64];
	struct atomic_file af, a2;
	struct stat st;
	mode_t mask = umask(022);

	if (!ok(mkdtemp(dir) != NULL, "temp dir"))
		return tap_done();
	snprintf(path, sizeof path, "%s/out.json", dir);

	ok(atomic_file_open(&af, path) == 0, "open");
	fputs("first", af.f);
	ok(access(path, F_OK) != 0, "nothing at the target before commit");
	ok(atomic_file_commit(&af) == 0, "commit");
	ok(read_all(path, buf, sizeof buf) == 5 && strcmp(buf, "first") == 0, "the target holds what was written");
	ok(entries(dir) == 1, "no temporary file left");
	if (stat(path, &st) != 0)
		st.st_mode = 0;
	ok((st.st_mode & 0777) == 0644, "mode follows the umask (0%o)", (unsigned)(st.st_mode & 0777));

	ok(atomic_file_open(&af, path) == 0, "open again");
	fputs("half", af.f);
	atomic_file_abort(&af);
	ok(read_all(path, buf, sizeof buf) == 5 && strcmp(buf, "first") == 0, "abort leaves the previous file");
	ok(entries(dir) == 1, "abort removes the temporary file");

	ok(atomic_file_open(&af, path) == 0 && atomic_file_open(&a2, path) == 0, "two writers of one target");
	ok(strcmp(af.tmp, a2.tmp) != 0, "get different temporary files (%s, %s)", af.tmp, a2.tmp);
	fputs("one", af.f);
	fputs("two!", a2.f);
	ok(atomic_file_commit(&af) == 0 && atomic_file_commit(&a2) == 0, "both commit");
	ok(read_all(path, buf, sizeof buf) == 4 && strcmp(buf, "two!") == 0, "the last commit wins, whole");
	ok(entries(dir) == 1, "and nothing is left beside it");

	ok(atomic_file_open(&af, "/nonexistent-dir/x.json") == DET_EIO &&
	   strstr(det_error_message(), "can't write /nonexistent-dir/x.json (No such file or directory)") != NULL,
	   "a missing directory is named: %s", det_error_message());

	unlink(path);
	rmdir(dir);
	umask(mask);
	return tap_done();
}
