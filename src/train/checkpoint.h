/* checkpoint.h: the trainer's checkpoint file — named sections (weights,
 * optimiser state with its EMA, the run's position, metrics so far, the
 * recipe's source), each checksummed, the whole closed by an end record
 * with a CRC-32 (zlib) of every byte before it, and written atomically:
 * a temporary file in the same directory, fsync, rename over the target,
 * fsync of the directory. A file cut short (a crash or kill -9 mid-write
 * leaves only the temporary, never the target) or altered (a flipped byte,
 * a truncation) fails to load with a message that says which check failed.
 *
 * Layout (little-endian):
 *   "DETCKPT1" u32 version
 *   section*:  u32 name_len, name, u64 size, bytes[size], u32 crc32(bytes)
 *   end:       u32 0, u32 crc32(every byte from the magic to here), "TPKCTED\n"
 *
 * The weights section ("weights") holds every parameter and running-
 * statistics buffer of an nn_store by name:
 *   u32 nentries, per entry: u8 kind ('p' or 'b'), u32 name_len, name,
 *   u32 ndim, u64 dims[ndim], u64 count, f32[count]. */
#ifndef DET_TRAIN_CHECKPOINT_H
#define DET_TRAIN_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>

#define CKPT_VERSION 1

struct nn_store;

struct ckpt_section {
	char *name;
	unsigned char *data;
	size_t size;
};

/* A checkpoint in memory: sections in order. */
struct ckpt {
	struct ckpt_section *sec;
	size_t n, cap;
};

struct ckpt *ckpt_new(void);
void ckpt_free(struct ckpt *c);
/* Adds a copy of data[size] as section name (replacing one of that name).
 * 0 or DET_ENOMEM. */
int ckpt_add(struct ckpt *c, const char *name, const void *data, size_t size);
/* The section called name (*size set), or NULL. The bytes stay the
 * checkpoint's. */
const void *ckpt_get(const struct ckpt *c, const char *name, size_t *size);

/* Writes c to path atomically (see above). 0 or DET_EIO naming the file
 * and the reason; the target is untouched on failure. */
int ckpt_write(const struct ckpt *c, const char *path);
/* Reads and verifies path. NULL with DET_EIO / DET_EFORMAT naming the file
 * and the failed check ("truncated: no end record", "section 'weights':
 * checksum mismatch", "version 7, this build reads 1"). */
struct ckpt *ckpt_read(const char *path);

/* For the crash test: when set, ckpt_write calls it once with the
 * temporary file's path after writing about half the bytes (before fsync
 * and rename). NULL by default. */
extern void (*ckpt_write_hook)(const char *tmp_path);

/* Packs every parameter and buffer of s into a weights section's bytes
 * (*out malloc'd). 0 or DET_ENOMEM. */
int ckpt_pack_store(const struct nn_store *s, unsigned char **out, size_t *size);

/* What loading weights found. Names are listed in the strings (comma
 * separated, cut at about 4000 characters). */
struct ckpt_load_report {
	int loaded, missing, unexpected, mismatched;
	char missing_names[4096], unexpected_names[4096], mismatched_names[4096];
};

/* Loads a weights section into s by name. A tensor whose shape differs is
 * mismatched: the load fails with DET_EFORMAT naming every such tensor
 * and both shapes, and nothing is changed. With strict, missing or
 * unexpected names fail too (naming them); without, they are reported
 * (report may be NULL) and the rest is loaded — for fine-tuning from a
 * checkpoint of another model. */
int ckpt_unpack_store(struct nn_store *s, const void *data, size_t size, int strict,
	struct ckpt_load_report *report);

/* A key = value text section (the run's position): ckpt_kv_* build and
 * read "key value\n" lines. */
int ckpt_kv_get(const struct ckpt *c, const char *section, const char *key, double *value);
int ckpt_kv_get_str(const struct ckpt *c, const char *section, const char *key, char *out, size_t size);

#endif
