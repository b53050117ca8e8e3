/* laug.h: what the trainer's binding needs from the augmentation, sampler
 * and loader bindings (laug.c, lsample.c): a dataset's augmentation list and
 * sampler as set by ds:augment{...} and ds:sampler(...). Both live in a
 * weak-keyed registry table keyed by the dataset object, so they last as
 * long as the dataset and no shared struct changes. */
#ifndef DET_LUA_LAUG_H
#define DET_LUA_LAUG_H

#include <lauxlib.h>

struct aug_list;
struct sampler;
struct loader;

/* Pushes the per-dataset state table of the dataset at idx (created on
 * first use; fields "augment" and "sampler"). */
void ldataset_state(lua_State *L, int idx);
/* The dataset's augmentation list, or NULL when none is set. The pointer
 * stays valid while the dataset object lives and ds:augment is not called
 * again (loader_new copies the list, so pass it straight on). */
const struct aug_list *laug_dataset_augment(lua_State *L, int idx);
/* The dataset's sampler, or NULL (sequential). Valid while the dataset
 * object lives and ds:sampler is not called again: keep a reference to the
 * sampler object (ds:sampler() returns it) for as long as a loader uses it. */
const struct sampler *lsample_dataset_sampler(lua_State *L, int idx);
/* The C loader of a det.loader object made by ds:loader{...} (raises if idx
 * is not one, or it is closed). The Lua object owns it: keep a reference
 * (registry) for as long as another thread calls loader_next on it; it
 * holds its dataset and sampler alive itself. */
struct loader *lloader_check(lua_State *L, int idx);

#endif
