/* checkpoint.h: saving and loading a parameter store (values and running
 * statistics, by name) to one file, written atomically (temporary file,
 * fsync, rename) so a crash never leaves half a checkpoint.
 *
 * File: a text header then raw little-endian float32 data:
 *   detbench-params 1
 *   <nparams> <nbuffers>
 *   p <name> <ndim> <d1> ... <dn>     one line per parameter, slab order
 *   b <name> <count>                  one line per running-statistics buffer
 *   data
 *   <values of every p line, then every b line>
 * Gradients and optimiser state are not part of it (the optimiser saves its
 * own state). */
#ifndef DET_NN_CHECKPOINT_H
#define DET_NN_CHECKPOINT_H

#include "nn/graph.h"

/* Writes every parameter and buffer of s to path. 0, or DET_EIO with a
 * message naming the file and the reason. */
int nn_store_save(const struct nn_store *s, const char *path);

struct nn_load_report {
	int loaded;      /* entries copied into the store */
	int missing;     /* store entries the file does not have */
	int unexpected;  /* file entries the store does not have (skipped) */
};

/* Reads path into s by name. A name whose shape differs is an error
 * (DET_EFORMAT naming it and both shapes) and nothing is changed; with
 * strict, missing or unexpected names are errors too; without, they are
 * counted in report (may be NULL) — e.g. a pretrained backbone loaded into
 * a detector. DET_EIO / DET_EFORMAT name the file and line. */
int nn_store_load(struct nn_store *s, const char *path, int strict, struct nn_load_report *report);

#endif
