import { copyFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { readElfFile } from '../elf/index.js';
import { runMake } from '../kbuild/run-make.js';
import type { Toolchain } from '../kbuild/toolchain.js';
import { convertLivepatchModule } from '../klp/index.js';
import { refuseSealedReferences } from '../klp/sealed-references.js';
import { checkLivepatchModule } from '../module/check-module.js';
import {
  ALLOW_MISSING_NAMESPACE_IMPORTS,
  exportsForNamedModules,
} from '../module/exports-for-named-modules.js';
import type { LivepatchModuleSpec } from '../module/module-spec.js';
import { reproducibleKcflags } from '../module/reproducible-build.js';
import { type SigningKey, signModule } from '../module/sign-module.js';
import { writeModuleDir } from '../module/write-module-dir.js';

export interface BuildModuleOptions {
  spec: LivepatchModuleSpec;
  /** Where `make -C` runs: the target's tree or headers. */
  buildDir: string;
  moduleSymvers: string;
  /** Symbols of vmlinux for klp-convert: an unstripped vmlinux, or a System.map/kallsyms file. */
  vmlinux?: string;
  systemMap?: string;
  /** .ko files of target modules the patch touches. */
  targetModules: string[];
  workDir: string;
  outputDir: string;
  expectedVermagic?: string;
  /** The target's make (Toolchain.make); default: the host's. */
  make?: Toolchain['make'];
  /** Sign the converted module with the target's sign-file (--sign-key/--sign-cert). */
  sign?: SigningKey;
  signal?: AbortSignal;
  onCommand?: (command: string) => void;
  /** vmlinux functions sealed at boot (IBT): the module may not take their address. */
  sealedFunctions?: ReadonlySet<string>;
}

/**
 * Builds the livepatch module with kbuild against the target, converts its relocations in-process
 * (klp-convert's library, no subprocess) and checks the result. Returns the path of OUTDIR/<name>.ko.
 */
export async function buildLivepatchModule(options: BuildModuleOptions): Promise<string> {
  const module = await writeModuleDir(options.spec, join(options.workDir, 'module'));
  const make = options.make ?? runMake;
  const forNamedModules = await exportsForNamedModules(options.spec.linkedObjects, options.moduleSymvers);
  await make({
    dir: options.buildDir,
    // The new code references non-exported symbols by design; modpost may only warn about them, because
    // klp-convert turns exactly those references into livepatch relocations next.
    // The work dir's temporary name must not reach the module's debug info: the same patch for the same
    // release gives the same bytes (reproducibleKcflags).
    // Exports for named modules (7.x's EXPORT_SYMBOL_FOR_MODULES) are such symbols too: modpost must not
    // demand their namespace, which the kernel forbids importing (exports-for-named-modules.ts).
    args: [
      reproducibleKcflags(module.dir),
      `M=${module.dir}`,
      'KBUILD_MODPOST_WARN=1',
      ...(forNamedModules.length > 0 ? [ALLOW_MISSING_NAMESPACE_IMPORTS] : []),
      'modules',
    ],
    logFile: join(options.workDir, 'module-build.log'),
    what: `livepatch module ${options.spec.name}`,
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.onCommand ? { onCommand: options.onCommand } : {}),
  });
  const converted = join(options.workDir, `${options.spec.name}.ko`);
  await convertLivepatchModule({
    input: module.koPath,
    output: converted,
    vmlinux: options.vmlinux,
    systemMap: options.systemMap,
    moduleSymvers: options.moduleSymvers,
    targetModules: options.targetModules,
  });
  if (options.sealedFunctions)
    refuseSealedReferences(converted, await readElfFile(converted), options.sealedFunctions);
  await checkLivepatchModule({
    ko: converted,
    moduleSymvers: options.moduleSymvers,
    ...(options.expectedVermagic ? { expectedVermagic: options.expectedVermagic } : {}),
  });
  // Last: the signature covers the final bytes.
  if (options.sign) await signModule(converted, options.buildDir, options.sign);
  await mkdir(options.outputDir, { recursive: true });
  const output = join(options.outputDir, `${options.spec.name}.ko`);
  await copyFile(converted, output);
  return output;
}
