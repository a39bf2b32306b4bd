/**
 * A distro kernel release as a target. Every distro goes the same way, through its adapter
 * (src/distro/distro-adapters.ts): check the release's form; prepare its source once (fetch, verify,
 * unpack; cached); choose where objects compile (Debian: the host or a build root of its suite; the
 * others: the host); make the tree ready for kbuild with the adapter's recipe (prepareForKbuild, cached);
 * the functions the kernel seals at boot (Debian IBT kernels); then preparedTarget.
 */
import { release as osRelease } from 'node:os';
import { join, resolve } from 'node:path';
import { detectDistro } from '../distro/detect-distro.js';
import type { DistroAdapter } from '../distro/distro-adapter.js';
import { distroAdapter } from '../distro/distro-adapters.js';
import { releaseFromSrpm } from '../distro/local-srpm.js';
import { buildsModuleInTree, prepareForKbuild } from '../distro/prepare-for-kbuild.js';
import { isRpmDistro } from '../distro/rpm-adapter.js';
import { UsageError } from '../errors.js';
import { hostToolchain } from '../kbuild/toolchain.js';
import type { BuildContext } from './build-context.js';
import { runStep } from './build-events.js';
import type { BuildTarget } from './build-target.js';
import type { FullBuildSpec, PreparedSource } from './prepared-target.js';
import { preparedTarget } from './prepared-target.js';

export interface DistroTargetSpec extends FullBuildSpec {
  /** os-release ID (default: this machine's). */
  distro?: string;
  /** The target's release as uname -r prints it (default: this machine's; Debian also "latest"). */
  release?: string;
  /** A local kernel SRPM to build from instead of the distro's (kpatch-build -r; RPM distros). */
  sourceRpm?: string;
  /** Replaces the distro's base URLs (else KPATCH_MIRROR_<ID>, else the data's). */
  mirror?: string;
  cacheDir?: string;
  /** Debian: compile with the host's compiler even when it is not the kernel's (no build root). */
  skipCompilerCheck?: boolean;
}

/** The distro, its release and the -r SRPM checked against each other; the release defaults to uname -r. */
async function checkedRelease(spec: DistroTargetSpec): Promise<{ adapter: DistroAdapter; release: string }> {
  const id = detectDistro(spec.distro);
  if (spec.sourceRpm !== undefined && !isRpmDistro(id)) {
    throw new UsageError(`-r/--sourcerpm is for RPM distros; the target distro is ${id}`, {
      hint: 'pass --distro fedora, centos, almalinux, rocky or ol',
    });
  }
  // kpatch-build -r without -a: the kernel the SRPM builds is the target.
  const release =
    spec.release ?? (spec.sourceRpm ? await releaseFromSrpm(resolve(spec.sourceRpm)) : osRelease());
  const adapter = distroAdapter(id);
  adapter.parseRelease(release); // refuses another distro's release name, with a hint
  return { adapter, release };
}

/** Without -s: the target is a distro kernel release, its source prepared once (cached), never built. */
export async function resolveDistroTarget(spec: DistroTargetSpec, ctx: BuildContext): Promise<BuildTarget> {
  const { adapter, release } = await checkedRelease(spec);
  const { emit, signal, onProgress } = ctx;
  emit({ kind: 'phase', message: `${adapter.name} kernel ${release}: preparing its source (cached)` });
  // Source preparation phases (all near zero once cached) join the build's own timings.
  const onPhase = (phase: string, ms: number) =>
    emit({ kind: 'step', step: `source ${phase}`, ms: Math.round(ms) });
  const source = await adapter.prepareSource(release, {
    ...(spec.mirror ? { mirror: spec.mirror } : {}),
    ...(spec.sourceRpm ? { sourcePackage: resolve(spec.sourceRpm) } : {}),
    ...(spec.cacheDir ? { cacheDir: spec.cacheDir } : {}),
    signal,
    onProgress,
    onDownload: ctx.onDownload,
    onPhase,
  });
  if (source.release !== release) {
    emit({ kind: 'note', message: `${adapter.name} kernel ${release} is ${source.release}` });
  }
  const { toolchain: chooseToolchain, sealedFunctions: readSealed } = adapter;
  const toolchain = chooseToolchain
    ? await runStep(emit, 'toolchain', () =>
        chooseToolchain(source, {
          ...(spec.cacheDir ? { cacheDir: spec.cacheDir } : {}),
          ...(spec.skipCompilerCheck ? { skipCompilerCheck: true } : {}),
          signal,
          onProgress,
          onNote: (message) => emit({ kind: 'note', message }),
        }),
      )
    : hostToolchain;
  const modulesInTree = buildsModuleInTree(source, toolchain);
  const start = performance.now();
  const recipe = await adapter.kbuildRecipe(source, { toolchain, modulesInTree });
  onPhase('check', performance.now() - start);
  await prepareForKbuild(recipe, {
    jobs: ctx.jobs,
    make: toolchain.make,
    signal,
    onCommand: ctx.onCommand,
    onProgress,
    onPhase,
  });
  const sealedFunctions = readSealed
    ? await runStep(emit, 'sealed functions', () => readSealed(source, { signal, onProgress }))
    : undefined;
  const prepared: PreparedSource = {
    label: `${adapter.name} kernel ${source.release}`,
    tree: source.tree,
    config: join(source.tree, '.config'),
    symbols: source.systemMap,
    moduleSymvers: source.moduleSymvers,
    moduleBuildDir: modulesInTree ? source.tree : (source.headersDir ?? source.tree),
    utsDefines: source.utsDefines,
    ...(source.image ? { image: source.image } : {}),
    ...(source.modulesDir ? { modulesDir: source.modulesDir } : {}),
    ...(sealedFunctions ? { sealedFunctions } : {}),
  };
  return preparedTarget(prepared, spec, toolchain, ctx);
}
