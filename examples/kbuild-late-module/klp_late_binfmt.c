// SPDX-License-Identifier: GPL-2.0
/*
 * A livepatch for a loadable module: bm_status_read() of binfmt_misc
 * (fs/binfmt_misc.c), which serves /proc/sys/fs/binfmt_misc/status. The
 * replacement reads the module's static "enabled" flag, so its relocation
 * must be resolved in binfmt_misc: klp-convert writes it to
 * .klp.rela.binfmt_misc.<section>, and the livepatch core applies it when
 * binfmt_misc is loaded, before or after this patch (late module patching).
 */
#include <linux/fs.h>
#include <linux/kernel.h>
#include <linux/livepatch.h>
#include <linux/module.h>
#include <linux/string.h>

#include "klp-module-reloc.h"

extern int enabled;	/* static in binfmt_misc */

/* A generic name: say which object it belongs to. */
KLP_MODULE_RELOC(binfmt_misc) = {
	KLP_SYMPOS(enabled, 0),
};

static ssize_t klp_late_bm_status_read(struct file *file, char __user *buf, size_t nbytes, loff_t *ppos)
{
	const char *s = enabled ? "enabled (livepatched)\n" : "disabled (livepatched)\n";

	return simple_read_from_buffer(buf, nbytes, ppos, s, strlen(s));
}

static struct klp_func klp_late_funcs[] = {
	{
		.old_name = "bm_status_read",
		.new_func = klp_late_bm_status_read,
	},
	{ }
};

static struct klp_object klp_late_objs[] = {
	{
		.name = "binfmt_misc",
		.funcs = klp_late_funcs,
	},
	{ }
};

static struct klp_patch klp_late_patch = {
	.mod = THIS_MODULE,
	.objs = klp_late_objs,
};

static int __init klp_late_init(void)
{
	return klp_enable_patch(&klp_late_patch);
}

static void __exit klp_late_exit(void)
{
}

module_init(klp_late_init);
module_exit(klp_late_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kpatch-build example: patch binfmt_misc, loaded before or after the patch");
MODULE_INFO(livepatch, "Y");
