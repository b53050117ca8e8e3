/* ldoctor.c: ds:doctor{...} — the dataset doctor's report as a Lua table
 * that prints as the aligned text report (its __tostring), and
 * det.core.doctor.run(ds, opts), the same as a function. */
#include <lauxlib.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "data/doctor.h"
#include "lua/ldata.h"
#include "lua/ldet.h"

#define REPORT_BOX "det.doctor.report*"
#define REPORT_META "det.doctor.report"

/* The C report lives in a userdata with a __gc until the table is built,
 * so a Lua error in between frees it. */
static int box_gc(lua_State *L)
{
	struct doctor_report **p = luaL_checkudata(L, 1, REPORT_BOX);

	doctor_report_free(*p);
	*p = NULL;
	return 0;
}

static void set_int(lua_State *L, const char *key, lua_Integer v)
{
	lua_pushinteger(L, v);
	lua_setfield(L, -2, key);
}

static void set_num(lua_State *L, const char *key, lua_Number v)
{
	lua_pushnumber(L, v);
	lua_setfield(L, -2, key);
}

static void push_box(lua_State *L, const struct dataset_box *b)
{
	lua_createtable(L, 4, 0);
	lua_pushnumber(L, b->x0), lua_rawseti(L, -2, 1);
	lua_pushnumber(L, b->y0), lua_rawseti(L, -2, 2);
	lua_pushnumber(L, b->x1), lua_rawseti(L, -2, 3);
	lua_pushnumber(L, b->y1), lua_rawseti(L, -2, 4);
}

static void push_hist(lua_State *L, const char *const *names, const size_t *v, int n)
{
	lua_createtable(L, n, 0);
	for (int k = 0; k < n; k++) {
		lua_createtable(L, 0, 2);
		lua_pushstring(L, names[k]);
		lua_setfield(L, -2, "bin");
		set_int(L, "count", (lua_Integer)v[k]);
		lua_rawseti(L, -2, k + 1);
	}
}

static void push_report(lua_State *L, const struct doctor_report *r)
{
	const struct dataset *ds = r->ds;
	char line[700];

	lua_createtable(L, 0, 16);
	lua_pushstring(L, ds->name ? ds->name : "");
	lua_setfield(L, -2, "name");
	set_int(L, "images", (lua_Integer)r->nimages);
	set_int(L, "objects", (lua_Integer)r->nobjects);
	set_int(L, "ignored", (lua_Integer)r->ignored);
	set_int(L, "crowd", (lua_Integer)r->crowd);
	set_int(L, "classes", r->nclasses);
	set_int(L, "classes_used", r->classes_used);

	lua_createtable(L, r->nclasses, 0);
	for (int k = 0; k < r->nclasses; k++) {
		int c = r->class_order[k];

		lua_createtable(L, 0, 4);
		lua_pushstring(L, ds->class_names[c]);
		lua_setfield(L, -2, "name");
		set_int(L, "class", c + 1);
		set_int(L, "objects", (lua_Integer)r->class_objects[c]);
		set_int(L, "images", (lua_Integer)r->class_images[c]);
		lua_rawseti(L, -2, k + 1);
	}
	lua_setfield(L, -2, "per_class");
	if (r->class_max >= 0) {
		set_num(L, "imbalance", r->imbalance);
		lua_pushstring(L, ds->class_names[r->class_max]);
		lua_setfield(L, -2, "most_frequent");
		lua_pushstring(L, ds->class_names[r->class_min]);
		lua_setfield(L, -2, "least_frequent");
	}

	lua_createtable(L, 0, 5);
	set_int(L, "min", (lua_Integer)r->per_image_min);
	set_num(L, "median", r->per_image_median);
	set_int(L, "max", (lua_Integer)r->per_image_max);
	set_num(L, "mean", r->per_image_mean);
	push_hist(L, doctor_count_bin_names, r->per_image_hist, DOCTOR_COUNT_BINS);
	lua_setfield(L, -2, "histogram");
	lua_setfield(L, -2, "objects_per_image");

	lua_createtable(L, 0, 3);
	set_int(L, "small", (lua_Integer)r->size_small);
	set_int(L, "medium", (lua_Integer)r->size_medium);
	set_int(L, "large", (lua_Integer)r->size_large);
	lua_setfield(L, -2, "sizes");

	lua_createtable(L, 0, 4);
	set_num(L, "min", r->aspect_min);
	set_num(L, "median", r->aspect_median);
	set_num(L, "max", r->aspect_max);
	push_hist(L, doctor_aspect_bin_names, r->aspect_hist, DOCTOR_ASPECT_BINS);
	lua_setfield(L, -2, "histogram");
	lua_setfield(L, -2, "aspect");

	lua_createtable(L, 0, DOCTOR_NKINDS);
	for (int k = 0; k < DOCTOR_NKINDS; k++) {
		const struct doctor_finding *fd = &r->findings[k];

		lua_createtable(L, 0, 3);
		set_int(L, "count", (lua_Integer)fd->count);
		lua_pushstring(L, fd->title);
		lua_setfield(L, -2, "title");
		lua_createtable(L, (int)fd->nexamples, 0);
		for (size_t e = 0; e < fd->nexamples; e++) {
			const struct doctor_example *x = &fd->ex[e];
			const struct dataset_image *im = &ds->images[x->image];

			lua_createtable(L, 0, 6);
			set_int(L, "image", (lua_Integer)im->id);
			set_int(L, "index", (lua_Integer)x->image + 1); /* for ds:item(index) */
			if (im->file) {
				lua_pushstring(L, im->file);
				lua_setfield(L, -2, "file");
			}
			if (x->box != SIZE_MAX) {
				const struct dataset_box *b = &ds->boxes[x->box];

				lua_pushstring(L, b->cls >= 0 && b->cls < ds->nclasses ? ds->class_names[b->cls] : "?");
				lua_setfield(L, -2, "class");
				push_box(L, b);
				lua_setfield(L, -2, "box");
			}
			if (x->other != SIZE_MAX) {
				push_box(L, &ds->boxes[x->other]);
				lua_setfield(L, -2, "other");
				set_num(L, "iou", x->iou);
			}
			lua_rawseti(L, -2, (lua_Integer)e + 1);
		}
		lua_setfield(L, -2, "examples");
		lua_setfield(L, -2, fd->key);
	}
	lua_setfield(L, -2, "findings");

	lua_createtable(L, 0, 5);
	set_int(L, "images_skipped", (lua_Integer)ds->report.images_skipped);
	set_int(L, "boxes_skipped", (lua_Integer)ds->report.boxes_skipped);
	set_int(L, "boxes_clipped", (lua_Integer)ds->report.boxes_clipped);
	set_int(L, "duplicates", (lua_Integer)ds->report.duplicates);
	doctor_reader_summary(ds, 1, line, sizeof line);
	lua_pushstring(L, line);
	lua_setfield(L, -2, "summary");
	lua_setfield(L, -2, "reader");
}

static float opt_float(lua_State *L, int t, const char *key, float def)
{
	float v;

	lua_getfield(L, t, key);
	v = lua_isnil(L, -1) ? def : (float)luaL_checknumber(L, -1);
	lua_pop(L, 1);
	return v;
}

/* ds:doctor{ iou = 0.95, tiny = 4, border = 1, files = true } -> report table */
static int l_doctor(lua_State *L)
{
	struct dataset *ds = ldataset_check(L, 1);
	struct doctor_options opt = { .dup_iou = 0.95f, .tiny_px = 4, .border_px = 1,
		.check_files = ds->render == NULL };
	struct doctor_report **box;
	char *text;

	if (!lua_isnoneornil(L, 2)) {
		luaL_checktype(L, 2, LUA_TTABLE);
		opt.dup_iou = opt_float(L, 2, "iou", opt.dup_iou);
		opt.tiny_px = opt_float(L, 2, "tiny", opt.tiny_px);
		opt.border_px = opt_float(L, 2, "border", opt.border_px);
		luaL_argcheck(L, opt.dup_iou > 0 && opt.dup_iou < 1, 2, "iou must be between 0 and 1");
		luaL_argcheck(L, opt.tiny_px > 0 && opt.border_px >= 0, 2, "tiny must be > 0 and border >= 0");
		lua_getfield(L, 2, "files");
		if (!lua_isnil(L, -1))
			opt.check_files = lua_toboolean(L, -1);
		lua_pop(L, 1);
	}
	box = lua_newuserdatauv(L, sizeof *box, 0);
	*box = NULL;
	if (luaL_newmetatable(L, REPORT_BOX)) {
		lua_pushcfunction(L, box_gc);
		lua_setfield(L, -2, "__gc");
	}
	lua_setmetatable(L, -2);
	if (doctor_run(ds, &opt, box) < 0)
		return luaL_error(L, "ds:doctor: %s", det_error_message());
	push_report(L, *box);
	text = doctor_text(*box);
	if (text == NULL)
		return luaL_error(L, "ds:doctor: out of memory");
	lua_pushstring(L, text);
	free(text);
	lua_setfield(L, -2, "text");
	luaL_getmetatable(L, REPORT_META);
	lua_setmetatable(L, -2);
	doctor_report_free(*box);
	*box = NULL;
	return 1;
}

/* A report prints as its text. */
static int report_tostring(lua_State *L)
{
	lua_getfield(L, 1, "text");
	return 1;
}

static const luaL_Reg doctor_methods[] = {
	{ "doctor", l_doctor },
	{ NULL, NULL },
};

int luaopen_det_doctor(lua_State *L)
{
	ldataset_add_methods(L, doctor_methods);
	if (luaL_newmetatable(L, REPORT_META)) {
		lua_pushcfunction(L, report_tostring);
		lua_setfield(L, -2, "__tostring");
		lua_pushliteral(L, "det.doctor.report");
		lua_setfield(L, -2, "__name");
	}
	lua_pop(L, 1);
	lua_createtable(L, 0, 1);
	lua_pushcfunction(L, l_doctor);
	lua_setfield(L, -2, "run");
	return 1;
}
