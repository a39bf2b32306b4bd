/**
 * A distro kernel release as a target. Every distro goes the same way: check the release's form, prepare
 * its source once (cached) into a PreparedSource, then preparedTarget. What differs per distro is the
 * SourcePreparer below (Debian: its own source packages and `make prepare`; Ubuntu, Fedora and the RHEL
 * family: their adapter, then prepareForKbuild), chosen by os-release ID.
 */
import { release as osRelease } from 'node:os';
import { join, resolve } from 'node:path';
import { debianLayout } from '../distro/debian-layout.js';
import { debianSealedFunctions } from '../distro/debian-sealed-functions.js';
import { detectDistro } from '../distro/detect-distro.js';
import type { AdapterDistro } from '../distro/distro-adapter.js';
import { distroAdapter } from '../distro/distro-adapters.js';
import { releaseFromSrpm } from '../distro/local-srpm.js';
import { prepareDebianSource } from '../distro/prepare-debian-source.js';
import { prepareDebianTarget } from '../distro/prepare-debian-target.js';
import { isRpmDistro } from '../distro/rpm-adapter.js';
import { UsageError } from '../errors.js';
import { hostToolchain, type Toolchain } from '../kbuild/toolchain.js';
import type { BuildContext } from './build-context.js';
import { runStep } from './build-events.js';
import type { BuildTarget } from './build-target.js';
import { debianToolchain } from './debian-toolchain.js';
import { packageDownloadProgress } from './package-download-progress.js';
import { prepareForKbuild } from './prepare-for-kbuild.js';
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

interface SourceRequest {
  release: string;
  spec: DistroTargetSpec;
  ctx: BuildContext;
}

/** A prepared source and the toolchain it was prepared with (every later make and compile uses it). */
interface PreparedWith {
  source: PreparedSource;
  toolchain: Toolchain;
}

/** How one distro's release becomes a prepared source tree. */
interface SourcePreparer {
  /** "Debian", "Fedora", …: names the target in messages. */
  name: string;
  /** Throws (with a hint) when the release is not of this distro's form. */
  checkRelease(release: string): void;
  prepare(request: SourceRequest): Promise<PreparedWith>;
}

const ADAPTER_NAMES: Record<AdapterDistro, string> = {
  ubuntu: 'Ubuntu',
  fedora: 'Fedora',
  centos: 'CentOS Stream',
  almalinux: 'AlmaLinux',
  rocky: 'Rocky Linux',
  ol: 'Oracle Linux',
};

/**
 * Debian: the release's image, headers and linux-source packages (the tool's archive client); the
 * toolchain its config names (the host's compiler, or a build root of its suite); `make prepare` with
 * Debian's variables through that toolchain; on IBT kernels the functions sealed at boot.
 */
const debianPreparer: SourcePreparer = {
  name: 'Debian',
  checkRelease: (release) => {
    if (release !== 'latest') debianLayout(release); // refuses a non-Debian release name, with a hint
  },
  async prepare({ release, spec, ctx }) {
    const emit = ctx.emit;
    const cacheOpt = spec.cacheDir ? { cacheDir: spec.cacheDir } : {};
    const binary = await prepareDebianTarget(release, {
      ...cacheOpt,
      signal: ctx.signal,
      onProgress: ctx.onProgress,
      onDownload: ctx.onDownload,
    });
    const toolchain = await runStep(emit, 'toolchain', () =>
      debianToolchain(
        binary,
        { ...cacheOpt, ...(spec.skipCompilerCheck ? { skipCompilerCheck: true } : {}) },
        ctx,
      ),
    );
    // In a build root the module is built in the prepared tree (see PrepareSourceOptions.modulesInTree).
    const modulesInTree = toolchain !== hostToolchain;
    const source = await prepareDebianSource(release, {
      // Source preparation phases (all near zero once cached) join the build's own timings.
      onPhase: (phase, ms) => emit({ kind: 'step', step: `source ${phase}`, ms: Math.round(ms) }),
      jobs: ctx.jobs,
      toolchain,
      modulesInTree,
      signal: ctx.signal,
      ...cacheOpt,
      onProgress: ctx.onProgress,
      onDownload: ctx.onDownload,
    });
    const target = source.target;
    if (release === 'latest') emit({ kind: 'note', message: `Debian kernel latest is ${target.release}` });
    const sealedFunctions = await runStep(emit, 'sealed functions', () =>
      debianSealedFunctions(target, { signal: ctx.signal, onProgress: ctx.onProgress }),
    );
    return {
      toolchain,
      source: {
        label: `Debian kernel ${target.release}`,
        tree: source.tree,
        config: join(source.tree, '.config'),
        symbols: target.symbols.path,
        moduleSymvers: target.moduleSymvers,
        // The headers package is made for M= builds: its Module.symvers gives modpost the CRCs.
        moduleBuildDir: modulesInTree ? source.tree : target.buildDir,
        ...(target.modulesDir ? { modulesDir: target.modulesDir } : {}),
        image: target.image,
        ...(sealedFunctions ? { sealedFunctions } : {}),
      },
    };
  },
};

/**
 * Ubuntu, Fedora, the RHEL family: the adapter fetches, verifies and unpacks the source (dpkg-source -x,
 * or the SRPM's %prep); the tree is then made ready for kbuild once (prepare-for-kbuild.ts), so it is also
 * where the livepatch module is built against the target's CRCs.
 */
function adapterPreparer(id: AdapterDistro): SourcePreparer {
  return {
    name: ADAPTER_NAMES[id],
    checkRelease: (release) => {
      distroAdapter(id).parseRelease(release); // refuses another distro's release name (or "latest"), with a hint
    },
    async prepare({ release, spec, ctx }) {
      const toolchain = hostToolchain;
      const source = await distroAdapter(id).prepareSource(release, {
        ...(spec.mirror ? { mirror: spec.mirror } : {}),
        ...(spec.sourceRpm ? { sourcePackage: spec.sourceRpm } : {}),
        ...(spec.cacheDir ? { cacheDir: spec.cacheDir } : {}),
        signal: ctx.signal,
        onProgress: ctx.onProgress,
        onDownload: packageDownloadProgress(ctx.onDownload),
      });
      await prepareForKbuild(source, {
        jobs: ctx.jobs,
        make: toolchain.make,
        signal: ctx.signal,
        onCommand: ctx.onCommand,
        onProgress: ctx.onProgress,
      });
      const prepared: PreparedSource = {
        label: `${ADAPTER_NAMES[id]} kernel ${release}`,
        tree: source.tree,
        config: join(source.tree, '.config'),
        symbols: source.systemMap,
        moduleSymvers: source.moduleSymvers,
        moduleBuildDir: source.tree,
        utsDefines: source.utsDefines,
        ...(source.image ? { image: source.image } : {}),
        ...(source.modulesDir ? { modulesDir: source.modulesDir } : {}),
      };
      return { source: prepared, toolchain };
    },
  };
}

function sourcePreparer(id: string): SourcePreparer {
  return id === 'debian' ? debianPreparer : adapterPreparer(id as AdapterDistro);
}

/** The distro, its release and the -r SRPM checked against each other; the release defaults to uname -r. */
async function checkedRelease(spec: DistroTargetSpec): Promise<{ id: string; release: string }> {
  const id = detectDistro(spec.distro);
  if (spec.sourceRpm !== undefined && !isRpmDistro(id)) {
    throw new UsageError(`-r/--sourcerpm is for RPM distros; the target distro is ${id}`, {
      hint: 'pass --distro fedora, centos, almalinux, rocky or ol',
    });
  }
  // kpatch-build -r without -a: the kernel the SRPM builds is the target.
  const release =
    spec.release ?? (spec.sourceRpm ? await releaseFromSrpm(resolve(spec.sourceRpm)) : osRelease());
  sourcePreparer(id).checkRelease(release);
  return { id, release };
}

/** Without -s: the target is a distro kernel release, its source prepared once (cached), never built. */
export async function resolveDistroTarget(spec: DistroTargetSpec, ctx: BuildContext): Promise<BuildTarget> {
  const { id, release } = await checkedRelease(spec);
  const preparer = sourcePreparer(id);
  ctx.emit({ kind: 'phase', message: `${preparer.name} kernel ${release}: preparing its source (cached)` });
  const sourceRpm = spec.sourceRpm ? resolve(spec.sourceRpm) : undefined;
  const { source, toolchain } = await preparer.prepare({
    release,
    spec: { ...spec, ...(sourceRpm ? { sourceRpm } : {}) },
    ctx,
  });
  return preparedTarget(source, spec, toolchain, ctx);
}
