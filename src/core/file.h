/* file.h: reading a whole file into memory. */
#ifndef DET_CORE_FILE_H
#define DET_CORE_FILE_H

#include <stddef.h>

/* Reads all of path into *buf (malloc'd, NUL-terminated; *len excludes the
 * NUL). 0, DET_EIO with errno telling why, or DET_ENOMEM. Sets no error
 * message: the caller names the file in its own words (a missing label
 * file is no error for YOLO, a missing annotation is for VOC). */
int det_file_read(const char *path, char **buf, size_t *len);

#endif
