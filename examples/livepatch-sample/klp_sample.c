// SPDX-License-Identifier: GPL-2.0
/*
 * A hand-written livepatch that needs no conversion: the replacement for
 * cmdline_proc_show() (fs/proc/cmdline.c) uses only exported symbols, so
 * kbuild alone produces a module the kernel can load.
 */
#include <linux/kernel.h>
#include <linux/livepatch.h>
#include <linux/module.h>
#include <linux/seq_file.h>

static int klp_sample_cmdline_show(struct seq_file *m, void *v)
{
	seq_puts(m, "klp_sample: /proc/cmdline is served by a livepatch\n");
	return 0;
}

static struct klp_func klp_sample_funcs[] = {
	{
		.old_name = "cmdline_proc_show",
		.new_func = klp_sample_cmdline_show,
	},
	{ }
};

static struct klp_object klp_sample_objs[] = {
	{
		/* .name NULL: the function lives in vmlinux */
		.funcs = klp_sample_funcs,
	},
	{ }
};

static struct klp_patch klp_sample_patch = {
	.mod = THIS_MODULE,
	.objs = klp_sample_objs,
};

static int __init klp_sample_init(void)
{
	return klp_enable_patch(&klp_sample_patch);
}

static void __exit klp_sample_exit(void)
{
}

module_init(klp_sample_init);
module_exit(klp_sample_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kpatch-build example: replace /proc/cmdline output");
MODULE_INFO(livepatch, "Y");
