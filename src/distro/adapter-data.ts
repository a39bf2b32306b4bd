/**
 * The data files of the distro adapters (distro/<id>.json): their shapes, release parsing, mirror
 * overrides, and template expansion that knows which placeholders a release leaves unset (e.g. {minor}
 * for "5.14.0-362.el9.x86_64", which makes vault URLs that need it not apply).
 */
import { DistroError } from '../errors.js';
import type { AdapterDistro, ParsedRelease } from './distro-adapter.js';
import { loadDistroData } from './distro-data.js';

export interface FileSpec {
  /** Key of the package (binaries / packages) the file is taken from. */
  package: string;
  /** Path inside the package. */
  path: string;
}

/** Files taken from the binary packages; `image` (the bootable kernel, for --verify) is optional. */
export type TreeFile = 'config' | 'moduleSymvers' | 'systemMap' | 'image';
export type TreeFiles = Record<Exclude<TreeFile, 'image'>, FileSpec> & { image?: FileSpec };

/**
 * The target's loadable modules: `path` (lib/modules/{release}) taken from each of these packages that
 * was fetched (a distro splits them: kernel-modules-core, kernel-modules, linux-modules, …).
 */
export interface ModulesSpec {
  packages: string[];
  path: string;
}

interface CommonData {
  name: AdapterDistro;
  /** Names the distro in messages ("CentOS Stream"). */
  label: string;
  description: string;
  /** Base URLs by placeholder name; a mirror override replaces all of them. */
  mirrors: Record<string, string>;
  releasePattern: string;
  releaseExample: string;
  files: TreeFiles;
  modules?: ModulesSpec;
  /** Top-level Makefile variables set so `make kernelrelease` prints the release. */
  makefile: Record<string, string>;
}

export interface UbuntuData extends CommonData {
  packageVersionPattern: string;
  /** First guess of the series by kernel version (5.15.0 → jammy). */
  series: Record<string, string>;
  /** Series searched after the guess, in order, for linux-headers-<release>. */
  searchSeries: string[];
  suites: string[];
  components: string[];
  indexes: { packages: string; sources: string };
  packages: Record<string, string>;
  /** Keys of `packages` fetched, the first (headers) locating the release; `optional` ones may be absent. */
  fetch: string[];
  optional?: string[];
  utsDefines: Record<string, string>;
}

export interface RpmLocation {
  /** RPM package name ("kernel", "kernel-devel"). */
  name: string;
  /** Repositories (repodata) searched in order; the package is verified by their metadata. */
  repositories?: string[];
  /** Direct URLs tried in order, when the distro has no repository for them (verified by RPM digests only). */
  urls?: string[];
  /** Absent for some releases (kernel-modules-core is new in Fedora 37 and RHEL 9.1): skipped then. */
  optional?: boolean;
}

export interface RpmData extends CommonData {
  source: RpmLocation;
  binaries: Record<string, RpmLocation>;
  prep: { spec: string; defines: Record<string, string>; treeName: string };
}

export function loadAdapterData<T extends CommonData>(id: AdapterDistro): T {
  return loadDistroData<T>(id);
}

/** Environment variable that overrides a distro's mirrors, e.g. KPATCH_MIRROR_UBUNTU. */
export function mirrorEnvName(id: AdapterDistro): string {
  return `KPATCH_MIRROR_${id.toUpperCase()}`;
}

/** The base URLs to use: an explicit override, else $KPATCH_MIRROR_<ID>, else the data's. */
export function mirrorsFor(
  data: CommonData,
  override: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): Record<string, string> {
  const chosen = override ?? env[mirrorEnvName(data.name)];
  if (!chosen) return { ...data.mirrors };
  if (!/^https?:\/\/[^\s]+$/.test(chosen)) {
    throw new DistroError(`mirror "${chosen}" for ${data.name} is not an http(s) URL`, {
      hint: `pass a base URL such as ${Object.values(data.mirrors)[0]}`,
    });
  }
  const base = chosen.replace(/\/+$/, '');
  return Object.fromEntries(Object.keys(data.mirrors).map((key) => [key, base]));
}

export function parseReleaseWith(data: CommonData, release: string): ParsedRelease {
  const match = new RegExp(data.releasePattern).exec(release);
  if (!match?.groups) {
    throw new DistroError(`"${release}" is not a ${data.name} kernel release`, {
      hint: `${data.name} releases look like ${data.releaseExample} (what uname -r prints on the target)`,
    });
  }
  const parts: Record<string, string> = { release };
  for (const [key, value] of Object.entries(match.groups)) if (value !== undefined) parts[key] = value;
  return { release, parts };
}

/** Expands {key} placeholders; undefined when the template needs a value the release does not have. */
export function expandOptional(
  template: string,
  values: Readonly<Record<string, string>>,
): string | undefined {
  let missing = false;
  const text = template.replaceAll(/\{(\w+)\}/g, (_, key: string) => {
    const value = values[key];
    if (value === undefined) missing = true;
    return value ?? '';
  });
  return missing ? undefined : text;
}

/** Expands a template whose placeholders must all be known. */
export function expandRequired(
  template: string,
  values: Readonly<Record<string, string>>,
  what: string,
): string {
  const text = expandOptional(template, values);
  if (text === undefined)
    throw new DistroError(
      `distro data: ${what} "${template}" uses a placeholder this release has no value for`,
    );
  return text;
}
