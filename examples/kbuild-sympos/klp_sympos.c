// SPDX-License-Identifier: GPL-2.0
/*
 * A livepatch that needs a symbol position. vmlinux has two static
 * functions named load_elf_binary(): fs/binfmt_elf.c's and the 32-bit
 * compat copy built from fs/compat_binfmt_elf.c. In /proc/kallsyms order
 * (by address) the compat one is the second, so KLP_SYMPOS(..., 2) picks it.
 * The replacement cmdline_proc_show() prints its address, so a test can
 * compare it with the target's kallsyms.
 *
 * Without the KLP_SYMPOS() line klp-convert refuses the module and lists
 * both candidates. saved_command_line needs no line: its name is unique,
 * so klp-convert converts it by itself.
 */
#include <linux/kernel.h>
#include <linux/livepatch.h>
#include <linux/module.h>
#include <linux/seq_file.h>

#include "klp-module-reloc.h"

struct linux_binprm;
extern char *saved_command_line;
extern int load_elf_binary(struct linux_binprm *bprm);	/* static in vmlinux */

#ifndef LOAD_ELF_BINARY_POS
#define LOAD_ELF_BINARY_POS 2
#endif

#if LOAD_ELF_BINARY_POS
KLP_MODULE_RELOC(vmlinux) = {
	KLP_SYMPOS(load_elf_binary, LOAD_ELF_BINARY_POS),
};
#endif

static int klp_sympos_cmdline_show(struct seq_file *m, void *v)
{
	seq_printf(m, "%s load_elf_binary=%px\n", saved_command_line, load_elf_binary);
	return 0;
}

static struct klp_func klp_sympos_funcs[] = {
	{
		.old_name = "cmdline_proc_show",
		.new_func = klp_sympos_cmdline_show,
	},
	{ }
};

static struct klp_object klp_sympos_objs[] = {
	{
		.funcs = klp_sympos_funcs,
	},
	{ }
};

static struct klp_patch klp_sympos_patch = {
	.mod = THIS_MODULE,
	.objs = klp_sympos_objs,
};

static int __init klp_sympos_init(void)
{
	return klp_enable_patch(&klp_sympos_patch);
}

static void __exit klp_sympos_exit(void)
{
}

module_init(klp_sympos_init);
module_exit(klp_sympos_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kpatch-build example: a non-unique vmlinux symbol chosen with KLP_SYMPOS");
MODULE_INFO(livepatch, "Y");
