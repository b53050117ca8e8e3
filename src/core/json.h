/* json.h: the small pieces of JSON writing shared by every writer (COCO
 * export, metrics.jsonl, suspect and inspector exports). Reading goes
 * through cJSON. */
#ifndef DET_CORE_JSON_H
#define DET_CORE_JSON_H

#include <stdio.h>

/* Writes s as a JSON string literal: quotes, backslash escapes for '"' and
 * '\', \n for newlines, \u00XX for other control characters; bytes >= 0x80
 * pass through (UTF-8 stays UTF-8). */
void json_write_string(FILE *f, const char *s);

#endif
