// SPDX-License-Identifier: GPL-2.0
/*
 * A livepatch for cmdline_proc_show() (fs/proc/cmdline.c) whose replacement
 * reads saved_command_line, which vmlinux does not export. kbuild alone
 * leaves a plain reference the module loader cannot resolve; klp-convert
 * turns it into a livepatch relocation, at the position declared below.
 */
#include <linux/init.h>
#include <linux/kernel.h>
#include <linux/livepatch.h>
#include <linux/module.h>
#include <linux/seq_file.h>

#include "klp-module-reloc.h"

/* Also declared by <linux/init.h>; repeated here to show what the patch needs. */
extern char *saved_command_line;

KLP_MODULE_RELOC(vmlinux) = {
	KLP_SYMPOS(saved_command_line, 0),	/* 0: the name is unique in vmlinux */
};

static int klp_cmdline_proc_show(struct seq_file *m, void *v)
{
	seq_printf(m, "%s livepatch=1\n", saved_command_line);
	return 0;
}

static struct klp_func klp_cmdline_funcs[] = {
	{
		.old_name = "cmdline_proc_show",
		.new_func = klp_cmdline_proc_show,
	},
	{ }
};

static struct klp_object klp_cmdline_objs[] = {
	{
		/* .name NULL: the function lives in vmlinux */
		.funcs = klp_cmdline_funcs,
	},
	{ }
};

static struct klp_patch klp_cmdline_patch = {
	.mod = THIS_MODULE,
	.objs = klp_cmdline_objs,
};

static int __init klp_cmdline_init(void)
{
	return klp_enable_patch(&klp_cmdline_patch);
}

static void __exit klp_cmdline_exit(void)
{
}

module_init(klp_cmdline_init);
module_exit(klp_cmdline_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kpatch-build example: /proc/cmdline from a non-exported symbol, via klp-convert");
MODULE_INFO(livepatch, "Y");
