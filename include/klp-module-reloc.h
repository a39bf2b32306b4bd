/* SPDX-License-Identifier: GPL-2.0 */
/*
 * klp-module-reloc.h - declare the non-exported symbols a livepatch module uses
 *
 * A livepatch module built with kbuild may reference symbols the target
 * (vmlinux or a module) does not export. The module loader cannot resolve
 * those; the livepatch loader can, if the relocations are rewritten into
 * .klp.rela.<obj>.<section> sections. klp-convert does that rewrite after
 * the kbuild build. It converts references to names that are unique in the
 * target by itself; a name that occurs more than once in the target needs
 * the position of the wanted one, declared here:
 *
 *	#include "klp-module-reloc.h"
 *
 *	extern char *saved_command_line;
 *	extern int some_static_function(int);	// static in the target
 *
 *	KLP_MODULE_RELOC(vmlinux) = {
 *		KLP_SYMPOS(saved_command_line, 0),	// 0: the name is unique
 *		KLP_SYMPOS(some_static_function, 2),	// the second of its name
 *	};
 *
 * Positions count from 1 among the same-named symbols of the object: for
 * vmlinux in /proc/kallsyms order (by address), for a module in its symbol
 * table order. klp-convert lists the candidates when a name is ambiguous.
 * For a module target use its name with '_' for '-': KLP_MODULE_RELOC(nfsd).
 *
 * klp-convert removes these arrays from the final module.
 */
#ifndef _KLP_MODULE_RELOC_H
#define _KLP_MODULE_RELOC_H

struct klp_module_reloc {
	void *sym;
	unsigned int sympos;
} __attribute__((packed));

#define __KLP_RELOC_ARRAY(obj, line) __klp_module_relocs_##obj##_##line
#define _KLP_RELOC_ARRAY(obj, line) __KLP_RELOC_ARRAY(obj, line)

/* Starts an array of KLP_SYMPOS() entries for one target object. */
#define KLP_MODULE_RELOC(obj)						\
	static struct klp_module_reloc					\
	_KLP_RELOC_ARRAY(obj, __LINE__)[]				\
	__attribute__((used, section(".klp.module_relocs." #obj)))

/* One non-exported symbol and its position among same-named symbols. */
#define KLP_SYMPOS(symbol, pos) { .sym = (void *)&(symbol), .sympos = (pos) }

#endif /* _KLP_MODULE_RELOC_H */
