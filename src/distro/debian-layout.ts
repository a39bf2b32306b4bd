import { DistroError } from '../errors.js';
import { expandTemplate, loadDistroData } from './distro-data.js';

interface DebianData {
  latestMetapackage: string;
  latestDependsPattern: string;
  releasePattern: string;
  packages: { image: string; headers: string[]; source: string; debugSymbols: string };
  paths: { image: string; config: string; modules: string; headers: string; sourceTarball: string };
}

/** Package names and in-package paths of one Debian kernel release, from distro/debian.json. */
export interface DebianLayout {
  release: string;
  /** e.g. "6.1" */
  kernelSeries: string;
  imagePackage: string;
  headerPackages: string[];
  sourcePackage: string;
  debugSymbolsPackage: string;
  paths: DebianData['paths'];
}

export function debianData(): DebianData {
  return loadDistroData<DebianData>('debian');
}

export function debianLayout(release: string): DebianLayout {
  const data = debianData();
  const match = new RegExp(data.releasePattern).exec(release);
  if (!match?.groups) {
    throw new DistroError(`"${release}" is not a Debian kernel release name`, {
      hint: 'releases look like 6.1.0-56-amd64 (what uname -r prints on the target)',
    });
  }
  const values = { release, ...match.groups } as Record<string, string>;
  const expand = (t: string) => expandTemplate(t, values);
  return {
    release,
    kernelSeries: values.kver ?? '',
    imagePackage: expand(data.packages.image),
    headerPackages: data.packages.headers.map(expand),
    sourcePackage: expand(data.packages.source),
    debugSymbolsPackage: expand(data.packages.debugSymbols),
    paths: {
      image: expand(data.paths.image),
      config: expand(data.paths.config),
      modules: expand(data.paths.modules),
      headers: expand(data.paths.headers),
      sourceTarball: expand(data.paths.sourceTarball),
    },
  };
}
