/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kpatch-macros.h - kpatch's patch-author macros, for patches written for kpatch-build
 *
 * kpatch-build puts this header on the include path of the patched build, so patches that use
 * kpatch's macro names build unchanged:
 *
 *	#include "kpatch-macros.h"
 *
 *	static int fix_state(patch_object *obj)
 *	{
 *		...
 *		return 0;
 *	}
 *	KPATCH_PRE_PATCH_CALLBACK(fix_state);
 *
 * A callback belongs to the object (vmlinux or a module) the file it is in is linked into; it runs
 * when the livepatch is applied to, or removed from, that object (see the kernel's
 * Documentation/livepatch/callbacks.rst). The pre-patch callback may refuse the patch by returning an
 * error. At most one callback of each kind per object.
 *
 * Each macro records a pointer to the function in a .kpatch.callbacks.<kind> section; kpatch-build
 * reads those records from the patched object and wires the functions into the klp_object. The
 * records themselves are not copied into the livepatch module.
 *
 * Shadow variables need no macro: call the kernel's klp_shadow_get_or_alloc() and friends
 * (<linux/livepatch.h>) directly.
 */
#ifndef _KPATCH_MACROS_H
#define _KPATCH_MACROS_H

#include <linux/compiler.h>
#include <linux/livepatch.h>
#include <linux/printk.h>

typedef struct klp_object patch_object;

#define __KPATCH_CALLBACK(_kind, _type, _fn)					\
	static _type (*__kpatch_##_kind##_callback_##_fn)(patch_object *)	\
	__section(".kpatch.callbacks." #_kind) __used = (_fn)

#define KPATCH_PRE_PATCH_CALLBACK(_fn)		__KPATCH_CALLBACK(pre_patch, int, _fn)
#define KPATCH_POST_PATCH_CALLBACK(_fn)		__KPATCH_CALLBACK(post_patch, void, _fn)
#define KPATCH_PRE_UNPATCH_CALLBACK(_fn)	__KPATCH_CALLBACK(pre_unpatch, void, _fn)
#define KPATCH_POST_UNPATCH_CALLBACK(_fn)	__KPATCH_CALLBACK(post_unpatch, void, _fn)

/*
 * Markers for the differ. KPATCH_IGNORE_SECTION(".name") and KPATCH_IGNORE_FUNCTION(fn): changes in
 * that section or function are not patched (the author vouches that the running code may stay).
 * KPATCH_FORCE_UNSAFE(fn) is refused with an explanation: the kernel's livepatch has no per-function
 * force (see the patch-level /sys/kernel/livepatch/<patch>/force).
 */
#define KPATCH_IGNORE_SECTION(_sec)						\
	static char *__UNIQUE_ID(kpatch_ignore_section_)			\
	__section(".kpatch.ignore.sections") __used = (_sec)
#define KPATCH_IGNORE_FUNCTION(_fn)						\
	static void *__kpatch_ignore_func_##_fn					\
	__section(".kpatch.ignore.functions") __used = (_fn)
#define KPATCH_FORCE_UNSAFE(_fn)						\
	static void *__kpatch_force_func_##_fn					\
	__section(".kpatch.force") __used = (_fn)

/* printk prefixed with the patched object's KBUILD_MODNAME. */
#define KPATCH_PRINTK(_fmt, ...) printk(KBUILD_MODNAME ": " _fmt, ##__VA_ARGS__)

#endif /* _KPATCH_MACROS_H */
