/* atomic.c: write to a temporary file, fsync, rename. */
#include "core/atomic.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/error.h"

static void release(struct atomic_file *af)
{
	free(af->tmp);
	free(af->path);
	af->f = NULL;
	af->tmp = af->path = NULL;
}

/* The umask without changing it (umask(2) would, for every thread, for a
 * moment): Linux reports it in /proc/self/status; 022 when it does not. */
static mode_t process_umask(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[128];
	unsigned mask = 022;

	if (f) {
		while (fgets(line, sizeof line, f))
			if (sscanf(line, "Umask: %o", &mask) == 1)
				break;
		fclose(f);
	}
	return (mode_t)mask;
}

int atomic_file_open(struct atomic_file *af, const char *path)
{
	size_t len = strlen(path) + 12;
	int fd;

	af->f = NULL;
	af->path = strdup(path);
	af->tmp = malloc(len);
	if (af->path == NULL || af->tmp == NULL) {
		release(af);
		return det_error_set(DET_ENOMEM, "out of memory writing %s", path);
	}
	/* a unique name: two writers of one target never share a temporary */
	snprintf(af->tmp, len, "%s.tmpXXXXXX", path);
	if ((fd = mkstemp(af->tmp)) < 0 || (af->f = fdopen(fd, "wb")) == NULL) {
		/* the target's name: the temporary beside it is ours, not the user's */
		int rc = det_error_set(DET_EIO, "can't write %s (%s)", path, strerror(errno));

		if (fd >= 0) {
			close(fd);
			unlink(af->tmp);
		}
		release(af);
		return rc;
	}
	/* mkstemp creates 0600; a saved file gets the usual umask-derived mode */
	fchmod(fd, 0666 & ~process_umask());
	return 0;
}

/* fsync the directory holding path, so the rename itself is durable. */
static void sync_dir(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir = slash ? strndup(path, (size_t)(slash - path) + (slash == path)) : strdup(".");
	int fd;

	if (dir && (fd = open(dir, O_RDONLY | O_DIRECTORY)) >= 0) {
		fsync(fd);
		close(fd);
	}
	free(dir);
}

int atomic_file_commit(struct atomic_file *af)
{
	int bad = 0, err = 0;

	bad |= ferror(af->f) != 0;
	bad |= fflush(af->f) != 0;
	if (bad)
		err = errno;
	bad |= fsync(fileno(af->f)) != 0;
	if (bad && !err)
		err = errno;
	bad |= fclose(af->f) != 0;
	if (bad && !err)
		err = errno;
	if (!bad && rename(af->tmp, af->path) != 0) {
		bad = 1;
		err = errno;
	}
	if (bad) {
		int rc = det_error_set(DET_EIO, "can't write %s (%s)", af->path, strerror(err ? err : EIO));

		unlink(af->tmp);
		release(af);
		return rc;
	}
	sync_dir(af->path);
	release(af);
	return 0;
}

void atomic_file_abort(struct atomic_file *af)
{
	if (af->f)
		fclose(af->f);
	if (af->tmp)
		unlink(af->tmp);
	release(af);
}
