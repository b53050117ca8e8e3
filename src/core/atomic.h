/* atomic.h: files that appear whole or not at all. A writer opens a
 * temporary file beside the target, writes, and commits: flush, fsync,
 * close, rename over the target, fsync the directory. A crash or an error
 * at any point leaves the previous file untouched. */
#ifndef DET_CORE_ATOMIC_H
#define DET_CORE_ATOMIC_H

#include <stdio.h>

struct atomic_file {
	FILE *f;    /* write here */
	char *tmp;  /* "<path>.tmpXXXXXX", unique */
	char *path;
};

/* Opens a fresh "<path>.tmpXXXXXX" for writing (mode 0666 & ~umask). 0, or DET_EIO / DET_ENOMEM with a
 * message naming the file. */
int atomic_file_open(struct atomic_file *af, const char *path);
/* Makes the written file the one at path. 0, or DET_EIO naming path and
 * the reason; the temporary file is removed either way and af is released. */
int atomic_file_commit(struct atomic_file *af);
/* Drops the temporary file (after an error while writing). */
void atomic_file_abort(struct atomic_file *af);

#endif
