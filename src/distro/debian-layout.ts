import { readFileSync } from 'node:fs';
import { DistroError, UsageError } from '../errors.js';
import { debianArchiveConfig } from '../source/debian-mirrors.js';
import { expandTemplate, loadDistroData } from './distro-data.js';

export interface DebianPocket {
  /** "archive" or "security": which configured mirror serves it. */
  mirror: 'archive' | 'security';
  suite: string;
}

export interface DebianSuiteData {
  version: string;
  pockets: DebianPocket[];
  releasePattern: string;
  releaseExample: string;
  /** Kernel series (X.Y) whose linux-source-X.Y / linux-kbuild-X.Y this suite carries. */
  kernelSeries: string[];
  packages: {
    /** The package whose version is the release's build (linux-image-<rel>-unsigned up to trixie). */
    image: string;
    /**
     * Packages that with `image` make the kernel (image, config, modules): forky split the -unsigned
     * package into linux-binary-unsigned-<rel>, linux-base-<rel> and linux-modules-<rel>.
     */
    imageParts?: string[];
    headers: string[];
    source: string;
    debugSymbols: string;
  };
  paths: { image: string; config: string; modules: string; headers: string; sourceTarball: string };
}

export interface DebianData {
  /** Names the distro in messages. */
  label: string;
  description: string;
  mirrors: { archive: string; security: string };
  keyring: string;
  component: string;
  architecture: string;
  latestMetapackage: string;
  latestDependsPattern: string;
  flavours: string[];
  commonByFlavour: Record<string, string>;
  defaultCommon: string;
  /** Debian's kbuild recipe (debian-kbuild.ts): make targets, and .config settings of a local build ({release}). */
  kbuild: { prepareTargets: string[]; localConfig: Record<string, string> };
  suiteOrder: string[];
  suites: Record<string, DebianSuiteData>;
}

/** Package names and in-package paths of one Debian kernel release, from distro/debian.json. */
export interface DebianLayout {
  release: string;
  /** The suite whose rules (and archive) apply: bookworm, trixie, forky or sid. */
  suite: string;
  /** e.g. "6.1" */
  kernelSeries: string;
  flavour: string;
  imagePackage: string;
  /** imagePackage, then the packages that complete it (forky: linux-base-, linux-modules-). */
  imagePackages: string[];
  headerPackages: string[];
  sourcePackage: string;
  debugSymbolsPackage: string;
  paths: DebianSuiteData['paths'];
}

export function debianData(): DebianData {
  return loadDistroData<DebianData>('debian');
}

/** The suites kpatch-build knows, in distro/debian.json's order. */
export function debianSuites(): string[] {
  return debianData().suiteOrder;
}

export function suiteData(suite: string, data = debianData()): DebianSuiteData {
  const found = data.suites[suite];
  if (!found) {
    throw new UsageError(`unknown Debian suite "${suite}"`, {
      hint: `--suite takes one of: ${data.suiteOrder.join(', ')}`,
    });
  }
  return found;
}

const releaseHint = (data: DebianData) =>
  `releases look like ${data.suiteOrder
    .map((s) => data.suites[s]?.releaseExample)
    .filter((e, i, all) => e && all.indexOf(e) === i)
    .join(', ')} (what uname -r prints on the target; -cloud-amd64 and -rt-amd64 flavours too), or "latest"`;

/** The first suite (in data order) whose release-name rule matches, or undefined. */
export function suiteOfRelease(release: string, data = debianData()): string | undefined {
  return data.suiteOrder.find((s) => new RegExp(data.suites[s]?.releasePattern ?? '^$').test(release));
}

/** The host's Debian suite (VERSION_CODENAME of /etc/os-release), when it is one the data knows. */
export function hostDebianSuite(osRelease = '/etc/os-release'): string | undefined {
  try {
    const text = readFileSync(osRelease, 'utf8');
    const codename = /^VERSION_CODENAME="?([a-z]+)"?$/m.exec(text)?.[1];
    return codename && debianData().suites[codename] ? codename : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The layout of `release` under the rules of `suite` (default: --suite, else the suite whose release
 * names look like it — 6.1.0-57-amd64 bookworm, +deb13 trixie, +deb14 forky).
 */
export function debianLayout(release: string, suite?: string): DebianLayout {
  const data = debianData();
  const chosen = suite ?? debianArchiveConfig().suite;
  const name = chosen ?? suiteOfRelease(release, data);
  const rules = name ? suiteData(name, data) : undefined;
  const match = rules ? new RegExp(rules.releasePattern).exec(release) : undefined;
  if (!name || !rules || !match?.groups) {
    const other = chosen ? suiteOfRelease(release, data) : undefined;
    throw new DistroError(
      chosen && other
        ? `"${release}" is a ${other} kernel release, not one of ${chosen}`
        : `"${release}" is not a Debian kernel release name`,
      { hint: chosen && other ? `drop --suite, or pass --suite ${other}` : releaseHint(data) },
    );
  }
  const flavour = match.groups.flavour ?? '';
  const common = data.commonByFlavour[flavour] ?? data.defaultCommon;
  const values = { release, common, ...match.groups } as Record<string, string>;
  const expand = (t: string) => expandTemplate(t, values);
  return {
    release,
    suite: name,
    kernelSeries: values.kver ?? '',
    flavour,
    imagePackage: expand(rules.packages.image),
    imagePackages: [rules.packages.image, ...(rules.packages.imageParts ?? [])].map(expand),
    headerPackages: rules.packages.headers.map(expand),
    sourcePackage: expand(rules.packages.source),
    debugSymbolsPackage: expand(rules.packages.debugSymbols),
    paths: {
      image: expand(rules.paths.image),
      config: expand(rules.paths.config),
      modules: expand(rules.paths.modules),
      headers: expand(rules.paths.headers),
      sourceTarball: expand(rules.paths.sourceTarball),
    },
  };
}
