/* atomic.c: write to a temporary file, fsync, rename. */
#include "core/atomic.h"

#include <errno.h>
#include <fcntl.h>
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

int atomic_file_open(struct atomic_file *af, const char *path)
{
	size_t len = strlen(path) + 5;

	af->f = NULL;
	af->path = strdup(path);
	af->tmp = malloc(len);
	if (af->path == NULL || af->tmp == NULL) {
		release(af);
		return det_error_set(DET_ENOMEM, "out of memory writing %s", path);
	}
	snprintf(af->tmp, len, "%s.tmp", path);
	if ((af->f = fopen(af->tmp, "wb")) == NULL) {
		int rc = det_error_set(DET_EIO, "can't write %s (%s)", af->tmp, strerror(errno));

		release(af);
		return rc;
	}
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
