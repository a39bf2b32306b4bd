import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { BuildError } from '../errors.js';
import type { WrapCommand } from '../kbuild/tool-command.js';
import { recordedCommand, retargetCommand } from './kbuild-command.js';
import type { StructSizes } from './struct-sizes.js';
import { STRUCT_SIZE_NAMES } from './struct-sizes.js';

// Compiled with the target's own flags to assembly only: the sizes come out as text, like asm-offsets.
// struct paravirt_patch_site (.parainstructions) is gone since 6.8: paravirt calls became alternatives.
const PROBE_SOURCE = `#include <linux/version.h>
#include <linux/types.h>
#include <linux/bug.h>
#include <linux/extable.h>
#include <linux/jump_label.h>
#include <linux/printk.h>
#include <linux/static_call_types.h>
#include <asm/alternative.h>
#include <asm/processor.h>
#include <asm/extable.h>
#if defined(CONFIG_PARAVIRT) && LINUX_VERSION_CODE < KERNEL_VERSION(6, 8, 0)
#define KPATCH_PARA_SITES
#include <asm/paravirt_types.h>
#endif
#ifdef CONFIG_UNWINDER_ORC
#include <asm/orc_types.h>
#endif
#define SIZE(name, type) asm volatile("\\n.ascii \\"->" #name " %c0\\"" : : "i"(sizeof(type)))
void kpatch_struct_size_probe(void);
void kpatch_struct_size_probe(void)
{
#ifdef CONFIG_GENERIC_BUG
\tSIZE(BUG_STRUCT_SIZE, struct bug_entry);
#endif
\tSIZE(EX_STRUCT_SIZE, struct exception_table_entry);
\tSIZE(ALT_STRUCT_SIZE, struct alt_instr);
#ifdef CONFIG_JUMP_LABEL
\tSIZE(JUMP_STRUCT_SIZE, struct jump_entry);
#endif
#ifdef KPATCH_PARA_SITES
\tSIZE(PARA_STRUCT_SIZE, struct paravirt_patch_site);
#endif
#ifdef CONFIG_UNWINDER_ORC
\tSIZE(ORC_STRUCT_SIZE, struct orc_entry);
#endif
#ifdef CONFIG_HAVE_STATIC_CALL_INLINE
\tSIZE(STATIC_CALL_STRUCT_SIZE, struct static_call_site);
#endif
#ifdef CONFIG_PRINTK_INDEX
\tSIZE(PRINTK_INDEX_STRUCT_SIZE, struct pi_entry *);
#endif
}
`;

/** Parses the `->NAME N` lines of the probe's assembly. */
export function parseProbeOutput(assembly: string): StructSizes {
  const sizes: StructSizes = {};
  for (const m of assembly.matchAll(/->([A-Z_]+) \$?(\d+)/g)) {
    const name = STRUCT_SIZE_NAMES.find((n) => n === m[1]);
    if (name) sizes[name] = Number(m[2]);
  }
  return sizes;
}

/**
 * Entry sizes of the special sections of a built kernel tree, learnt by compiling a probe with the
 * recorded flags of `referenceObject` (any C object of the tree). No debug info is needed.
 */
export async function probeStructSizes(
  buildDir: string,
  referenceObject = 'init/main.o',
  wrap?: WrapCommand,
): Promise<StructSizes> {
  const command = await recordedCommand(buildDir, referenceObject);
  const dir = await mkdtemp(join(tmpdir(), 'kpatch-probe-'));
  try {
    const source = join(dir, 'probe.c');
    const output = join(dir, 'probe.s');
    await writeFile(source, PROBE_SOURCE);
    const compile = retargetCommand(command, {
      object: referenceObject,
      source: referenceObject.replace(/\.o$/, '.c'),
      newSource: source,
      newObject: output,
    }).replace(/\s-c\s/, ' -S ');
    // With the target's compiler (wrap: Toolchain.command, e.g. into a build root), like the objects.
    const sh = { file: 'sh', args: ['-c', compile], cwd: buildDir };
    const run = wrap ? wrap(sh) : sh;
    const result = await execa(run.file, run.args, { cwd: buildDir, reject: false });
    if (result.exitCode !== 0) {
      throw new BuildError(`the struct size probe did not compile in ${buildDir}`, {
        hint: result.stderr.split('\n').slice(0, 5).join('\n'),
      });
    }
    return parseProbeOutput(await readFile(output, 'utf8'));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
