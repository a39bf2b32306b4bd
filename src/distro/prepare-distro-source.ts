/**
 * The steps every adapter's prepareSource shares, in <cache>/targets/<distro>/<release>/:
 *   source/        the unpacked source, distro patches applied, Makefile release rules, .config
 *   files/         config, Module.symvers, System.map taken from the binary packages
 *   modules/       the target's lib/modules/<release> modules (as shipped: maybe .ko.xz), when the data has them
 *   source.json    the stamp: written last, so its presence means the tree is complete
 *   .source.lock   held while preparing (concurrent runs wait, then find the stamp)
 * Downloads go to <cache>/downloads/<distro>/ and are verified there (SHA256 + size from the distro's
 * indexes, or the RPM's own digests). A warm call reads the stamp and checks the files exist: no network.
 */
import { access, copyFile, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { DistroError, SourceError } from '../errors.js';
import { cacheRoot } from '../source/cache-dir.js';
import { extractDebs } from '../source/deb.js';
import { HttpStatusError } from '../source/download.js';
import { fetchFile } from '../source/fetch-file.js';
import { withLock } from '../source/lock.js';
import { packageDownloadProgress } from '../source/package-download-progress.js';
import { extractRpms } from '../source/rpm.js';
import { readRpm } from '../source/rpm-format.js';
import { resolveInRoot } from '../source/tree-paths.js';
import type { FileSpec, ModulesSpec, TreeFile, TreeFiles } from './adapter-data.js';
import type {
  AdapterDistro,
  Artifact,
  PrepareDistroOptions,
  PreparedDistroSource,
  ResolvedArtifacts,
} from './distro-adapter.js';
import { applyMakefileVariables, checkKernelRelease } from './release-rules.js';

// Bump when the layout or the preparation changes, so old trees are prepared again.
const STAMP_FORMAT = 2;

interface Stamp {
  format: number;
  distro: AdapterDistro;
  release: string;
  packageVersion: string;
  utsDefines: string[];
  verified: Record<string, string>;
  /** True when modules/ holds the target's modules. */
  modules: boolean;
  /** SHA256 of the local source package the tree was made from (-r), if one was given. */
  localSource?: string;
}

const TREE_FILES: Record<TreeFile, string> = {
  config: 'config',
  moduleSymvers: 'Module.symvers',
  systemMap: 'System.map',
  image: 'vmlinuz',
};

const exists = (path: string) =>
  access(path).then(
    () => true,
    () => false,
  );

export function targetDir(cache: string, distro: AdapterDistro, release: string): string {
  return join(cache, 'targets', distro, release);
}

export function downloadsDir(cache: string, distro: AdapterDistro): string {
  return join(cache, 'downloads', distro);
}

function result(dir: string, stamp: Stamp, cached: boolean, files: TreeFiles): PreparedDistroSource {
  return {
    ...(files.image ? { image: join(dir, 'files', TREE_FILES.image) } : {}),
    ...(stamp.modules ? { modulesDir: join(dir, 'modules') } : {}),
    distro: stamp.distro,
    release: stamp.release,
    packageVersion: stamp.packageVersion,
    tree: join(dir, 'source'),
    config: join(dir, 'files', TREE_FILES.config),
    moduleSymvers: join(dir, 'files', TREE_FILES.moduleSymvers),
    systemMap: join(dir, 'files', TREE_FILES.systemMap),
    utsDefines: stamp.utsDefines,
    verified: stamp.verified,
    cached,
  };
}

/** The prepared tree, when it is complete and made from the same inputs (the same local package, or none). */
async function readWarm(dir: string, steps: PrepareSteps): Promise<PreparedDistroSource | undefined> {
  const { distro, release, files } = steps;
  let stamp: Stamp;
  try {
    stamp = JSON.parse(await readFile(join(dir, 'source.json'), 'utf8')) as Stamp;
  } catch {
    return undefined;
  }
  if (stamp.format !== STAMP_FORMAT || stamp.release !== release || stamp.distro !== distro) return undefined;
  if (stamp.localSource !== steps.localSource?.sha256) return undefined;
  if (stamp.modules !== (steps.modules !== undefined)) return undefined;
  const prepared = result(dir, stamp, true, files);
  const needed = [
    join(prepared.tree, 'Makefile'),
    join(prepared.tree, '.config'),
    prepared.config,
    prepared.moduleSymvers,
    prepared.systemMap,
    ...(prepared.image ? [prepared.image] : []),
    ...(prepared.modulesDir ? [prepared.modulesDir] : []),
  ];
  for (const path of needed) if (!(await exists(path))) return undefined;
  return prepared;
}

/** Downloads each artifact into the distro's download directory and verifies it. */
export async function fetchArtifacts(
  artifacts: readonly Artifact[],
  dir: string,
  options: PrepareDistroOptions,
): Promise<{ paths: Map<string, string>; verified: Record<string, string> }> {
  const paths = new Map<string, string>();
  const verified: Record<string, string> = {};
  const onDownload = options.onDownload && packageDownloadProgress(options.onDownload);
  for (const artifact of artifacts) {
    if (artifact.fileName.includes('/') || artifact.fileName.startsWith('.')) {
      throw new SourceError(`unsafe file name "${artifact.fileName}" for ${artifact.url}`, {
        hint: 'the index is corrupt or crafted',
      });
    }
    const dest = join(dir, artifact.fileName);
    options.onProgress?.(`downloading ${artifact.fileName}`);
    try {
      await fetchFile({
        url: artifact.url,
        dest,
        sha256: artifact.sha256,
        size: artifact.size,
        signal: options.signal,
        retryDelayMs: options.retryDelayMs,
        onProgress: onDownload && ((p) => onDownload(artifact.fileName, p)),
      });
    } catch (error) {
      if (!(artifact.optional && error instanceof HttpStatusError && error.status === 404)) throw error;
      options.onProgress?.(`${artifact.fileName}: not published for this release, skipped`);
      continue;
    }
    let how = artifact.sha256 ? `sha256 ${artifact.sha256} and size from ${artifact.verification}` : '';
    if (artifact.fileName.endsWith('.rpm')) {
      try {
        const info = await readRpm(dest);
        how = [how, `rpm ${info.verified.join(', ')}`].filter(Boolean).join('; ');
      } catch (error) {
        await rm(dest, { force: true }); // a corrupt file must not be reused by the next run
        throw error;
      }
    }
    if (!how)
      throw new SourceError(`${dest}: nothing to verify it by`, {
        hint: 'the distro data must give a checksum source',
      });
    paths.set(artifact.role, dest);
    verified[artifact.fileName] = how;
  }
  return { paths, verified };
}

/** Takes config, Module.symvers, System.map (and the image) out of the binary packages into `<dir>/files`. */
async function extractTreeFiles(
  dir: string,
  files: TreeFiles,
  packagePaths: Map<string, string>,
  signal: AbortSignal | undefined,
): Promise<void> {
  const root = join(dir, 'binaries');
  const archives = [...new Set(Object.values(files).map((f) => f.package))].map((key) => {
    const path = packagePaths.get(key);
    if (!path) throw new DistroError(`distro data: file source "${key}" is not a fetched package`);
    return path;
  });
  const filter = Object.values(files).map((f) => f.path);
  const debs = archives.filter((a) => a.endsWith('.deb'));
  const rpms = archives.filter((a) => a.endsWith('.rpm'));
  await rm(root, { recursive: true, force: true });
  if (debs.length > 0) await extractDebs(debs, join(root, 'deb'), { filter, replace: true, signal });
  if (rpms.length > 0) await extractRpms(rpms, join(root, 'rpm'), { filter, replace: true, signal });
  await mkdir(join(dir, 'files'), { recursive: true });
  for (const [key, spec] of Object.entries(files) as [TreeFile, FileSpec][]) {
    const sub = packagePaths.get(spec.package)?.endsWith('.deb') ? 'deb' : 'rpm';
    const path = await resolveInRoot(join(root, sub), spec.path);
    if (!(await exists(path))) {
      throw new DistroError(`${spec.path} is not in ${packagePaths.get(spec.package)}`, {
        hint: 'the package layout differs from distro data; update the "files" paths',
      });
    }
    await copyFile(path, join(dir, 'files', TREE_FILES[key]));
  }
  await rm(root, { recursive: true, force: true });
}

/**
 * Takes lib/modules/<release>'s modules out of the fetched packages that carry them into `<dir>/modules`,
 * as shipped (compressed or not). False when none of those packages was fetched.
 */
async function extractModules(
  dir: string,
  spec: ModulesSpec,
  packagePaths: Map<string, string>,
  signal: AbortSignal | undefined,
): Promise<boolean> {
  const archives = spec.packages.flatMap((key) => {
    const path = packagePaths.get(key);
    return path ? [path] : [];
  });
  const modules = join(dir, 'modules');
  await rm(modules, { recursive: true, force: true });
  await rm(`${modules}.uncompressed`, { recursive: true, force: true });
  if (archives.length === 0) return false;
  const root = join(dir, 'binaries-modules');
  const filter = [`${spec.path}/**/*.ko`, `${spec.path}/**/*.ko.*`];
  // One distro ships one package format.
  const extract = archives.every((a) => a.endsWith('.deb')) ? extractDebs : extractRpms;
  await rm(root, { recursive: true, force: true });
  try {
    await extract(archives, root, { filter, replace: true, signal });
    const found = await resolveInRoot(root, spec.path);
    if (!(await exists(found))) {
      throw new DistroError(`${spec.path} has no modules in ${archives.map((a) => basename(a)).join(', ')}`, {
        hint: 'the package layout differs from distro data; update the "modules" entry',
      });
    }
    await rename(found, modules);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
  return true;
}

export interface PrepareSteps {
  distro: AdapterDistro;
  release: string;
  resolve: () => Promise<ResolvedArtifacts>;
  files: TreeFiles;
  /** The target's modules (path expanded), when the distro's data names their packages. */
  modules?: ModulesSpec;
  makefile: Record<string, string>;
  utsDefines: string[];
  /** A local source package standing in for the artifact of this role (kpatch-build -r), already checked. */
  localSource?: { role: string; path: string; sha256: string; verified: string };
  /** Creates the source tree at `tree` (must not exist) from the downloaded source artifacts (by role). */
  unpackSource: (paths: Map<string, string>, tree: string, logFile: string) => Promise<void>;
}

export async function prepareDistroSource(
  steps: PrepareSteps,
  options: PrepareDistroOptions,
): Promise<PreparedDistroSource> {
  const cache = options.cacheDir ?? cacheRoot();
  const dir = targetDir(cache, steps.distro, steps.release);
  const warm = await readWarm(dir, steps);
  if (warm) return warm;
  await mkdir(dir, { recursive: true });
  return withLock(
    join(dir, '.source.lock'),
    async () => {
      const again = await readWarm(dir, steps);
      if (again) return again;
      await rm(join(dir, 'source.json'), { force: true });
      options.onProgress?.(`resolving ${steps.distro} ${steps.release}`);
      const artifacts = await steps.resolve();
      const downloads = downloadsDir(cache, steps.distro);
      const local = steps.localSource;
      const source = artifacts.source.filter((a) => a.role !== local?.role);
      const fetched = await fetchArtifacts([...source, ...artifacts.binaries], downloads, options);
      if (local) {
        fetched.paths.set(local.role, local.path);
        fetched.verified[basename(local.path)] = local.verified;
      }
      options.onProgress?.(
        `extracting config, Module.symvers, System.map${steps.files.image ? ' and the image' : ''}`,
      );
      await extractTreeFiles(dir, steps.files, fetched.paths, options.signal);
      if (steps.modules) options.onProgress?.(`extracting the modules of ${steps.release}`);
      const modules = steps.modules
        ? await extractModules(dir, steps.modules, fetched.paths, options.signal)
        : false;
      const tree = join(dir, 'source');
      await rm(tree, { recursive: true, force: true });
      options.onProgress?.(`unpacking the ${steps.distro} source of ${steps.release}`);
      await steps.unpackSource(fetched.paths, tree, join(dir, 'prepare.log'));
      await applyMakefileVariables(tree, steps.makefile);
      await copyFile(join(dir, 'files', TREE_FILES.config), join(tree, '.config'));
      await checkKernelRelease(tree, steps.release, options.signal);
      const stamp: Stamp = {
        format: STAMP_FORMAT,
        distro: steps.distro,
        release: steps.release,
        packageVersion: artifacts.packageVersion,
        utsDefines: steps.utsDefines,
        verified: fetched.verified,
        modules,
        ...(local ? { localSource: local.sha256 } : {}),
      };
      await writeFile(join(dir, 'source.json'), `${JSON.stringify(stamp, null, 2)}\n`);
      return result(dir, stamp, false, steps.files);
    },
    { signal: options.signal },
  );
}
