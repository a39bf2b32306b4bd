/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kpatch-syscall.h - kpatch's syscall definition macros, for patches written for kpatch-build
 *
 * kpatch-build (the C/shell one) cannot patch a change inside a SYSCALL_DEFINE body: the body becomes
 * __do_sys_<name>(), declared `static inline` and therefore notrace, so ftrace has nothing to redirect.
 * Its answer is a header whose KPATCH_SYSCALL_DEFINEn macros the patch author uses in place of
 * SYSCALL_DEFINEn.
 *
 * This kpatch-build does not need them: when a changed function cannot be traced, it carries the new
 * copy unpatched and patches the traceable functions that call it (for a syscall, __x64_sys_<name>),
 * and says so in its output. The macros below exist so that patches written for kpatch-build build
 * unchanged; they define the syscall exactly as the kernel's own macros do:
 *
 *	#include "kpatch-syscall.h"
 *
 *	KPATCH_SYSCALL_DEFINE1(newuname, struct new_utsname __user *, name)
 *	{
 *		...
 *	}
 */
#ifndef _KPATCH_SYSCALL_H
#define _KPATCH_SYSCALL_H

#include <linux/syscalls.h>

#define KPATCH_SYSCALL_DEFINE0(name)	SYSCALL_DEFINE0(name)
#define KPATCH_SYSCALL_DEFINE1(name, ...)	SYSCALL_DEFINE1(name, __VA_ARGS__)
#define KPATCH_SYSCALL_DEFINE2(name, ...)	SYSCALL_DEFINE2(name, __VA_ARGS__)
#define KPATCH_SYSCALL_DEFINE3(name, ...)	SYSCALL_DEFINE3(name, __VA_ARGS__)
#define KPATCH_SYSCALL_DEFINE4(name, ...)	SYSCALL_DEFINE4(name, __VA_ARGS__)
#define KPATCH_SYSCALL_DEFINE5(name, ...)	SYSCALL_DEFINE5(name, __VA_ARGS__)
#define KPATCH_SYSCALL_DEFINE6(name, ...)	SYSCALL_DEFINE6(name, __VA_ARGS__)

#endif /* _KPATCH_SYSCALL_H */
