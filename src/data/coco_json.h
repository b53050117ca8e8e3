/* coco_json.h: reading large JSON files (COCO annotations, detection
 * results) without building one tree for the whole file. A small scanner
 * walks the top level and finds each array element's byte span; cJSON
 * parses one element at a time, so memory stays at the file plus one
 * record, and elements can be parsed in parallel. Every syntax error is
 * reported as "FILE:LINE:COLUMN: reason". */
#ifndef DET_DATA_COCO_JSON_H
#define DET_DATA_COCO_JSON_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

/* A byte range [off, off + len) of the buffer holding one JSON value. */
struct json_span {
	size_t off, len;
};

/* Reads a whole file into a NUL-terminated buffer (caller frees *buf);
 * "-" is standard input, and pipes work. 0 or DET_EIO / DET_ENOMEM with a
 * message naming the file. */
int json_file_read(const char *path, char **buf, size_t *len);

/* 1-based line and column of byte offset off in buf. */
void json_linecol(const char *buf, size_t len, size_t off, int *line, int *col);

/* Calls fn for each member of the top-level object in buf, in file order,
 * with the key (not NUL-terminated) and the value's span. A nonzero return
 * from fn stops the walk and is returned. Structural errors give DET_EFORMAT
 * and "NAME:LINE:COL: ..." (name is the file name used in messages). */
typedef int (*json_member_fn)(void *ctx, const char *key, size_t keylen, struct json_span value);
int json_object_walk(const char *name, const char *buf, size_t len, json_member_fn fn, void *ctx);

/* Splits the array whose span is `array` (the whole buffer when array.len
 * == 0 and array.off == 0 and the buffer's top level is an array) into its
 * elements' spans (*items, caller frees). DET_EFORMAT with position on a
 * malformed array; a value that is not an array gives DET_EFORMAT naming
 * `what`. */
int json_array_split(const char *name, const char *buf, size_t len, struct json_span array,
	const char *what, struct json_span **items, size_t *n);

/* The span of the whole top-level value (leading/trailing space trimmed);
 * DET_EFORMAT when the buffer is empty or has trailing garbage. */
int json_root_span(const char *name, const char *buf, size_t len, struct json_span *root);

/* Parses one span with cJSON; NULL on a syntax error, with *err_off set to
 * the error's byte offset in buf. Thread-safe (uses no global state of ours). */
cJSON *json_span_parse(const char *buf, struct json_span sp, size_t *err_off);

/* Formats "NAME:LINE:COL: " for offset off into out. */
void json_where(char *out, size_t outsz, const char *name, const char *buf, size_t len, size_t off);

/* Field helpers for one parsed record. Each returns 1 when the field is
 * present with the right type (value stored), 0 when absent, -1 when present
 * with the wrong type. */
int json_get_number(const cJSON *obj, const char *key, double *v);
int json_get_string(const cJSON *obj, const char *key, const char **v);
/* A 4-number array (COCO bbox). */
int json_get_bbox(const cJSON *obj, const char *key, double v[4]);

/* A fixed-size open-addressing map from source ids (COCO image, category,
 * annotation ids) to indices; sized once for the number of keys expected. */
struct id_map {
	size_t mask;
	int64_t *keys;
	long *vals; /* -1: empty slot */
};
int id_map_init(struct id_map *m, size_t expected);
void id_map_fini(struct id_map *m);
/* Inserts key -> val; 0 when inserted, 1 when key was there (unchanged). */
int id_map_put(struct id_map *m, int64_t key, long val);
/* The value for key, or -1. */
long id_map_get(const struct id_map *m, int64_t key);

#endif
