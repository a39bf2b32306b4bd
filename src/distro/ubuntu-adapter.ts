/**
 * Ubuntu: release "<kver>-<abi>-<flavour>" (5.15.0-91-generic) ↔ package version "<kver>-<abi>.<upload>"
 * (5.15.0-91.101). Source: the source package linux-headers-<release> names (`linux`: .dsc + .orig.tar.gz
 * + .diff.gz; linux-hwe-6.8, …), unpacked as dpkg-source -x does. config and Module.symvers:
 * linux-headers-<release>; System.map and the modules: linux-modules-<release> (+ linux-modules-extra-,
 * when published); the image: linux-image-unsigned-<release>. All named in distro/ubuntu.json.
 * Release rule: KERNELVERSION = <release> in the top Makefile (Ubuntu's build passes it to make);
 * UTS_UBUNTU_RELEASE_ABI = <abi> is returned in utsDefines (Ubuntu's headers package appends it).
 */
import { cacheRoot } from '../source/cache-dir.js';
import { unpackDsc } from '../source/unpack-dsc.js';
import {
  expandRequired,
  loadAdapterData,
  mirrorsFor,
  parseReleaseWith,
  type UbuntuData,
} from './adapter-data.js';
import type { DistroAdapter, PrepareDistroOptions, ResolveOptions } from './distro-adapter.js';
import { distroKbuildRecipe } from './distro-kbuild-recipe.js';
import { prepareDistroSource } from './prepare-distro-source.js';
import { utsDefineLines } from './release-rules.js';
import { resolveUbuntuArtifacts } from './ubuntu-archive.js';

export function ubuntuAdapter(): DistroAdapter {
  const data = loadAdapterData<UbuntuData>('ubuntu');
  const parseRelease = (release: string) => parseReleaseWith(data, release);
  const resolveArtifacts = (release: string, options: ResolveOptions = {}) =>
    resolveUbuntuArtifacts(data, parseRelease(release), mirrorsFor(data, options.mirror), {
      ...options,
      cacheDir: options.cacheDir ?? cacheRoot(),
    });
  return {
    id: 'ubuntu',
    name: data.label,
    description: data.description,
    parseRelease,
    resolveArtifacts,
    async prepareSource(release: string, options: PrepareDistroOptions = {}) {
      const parsed = parseRelease(release);
      const values = parsed.parts;
      const expand = (t: string, what: string) => expandRequired(t, values, what);
      const files = Object.fromEntries(
        Object.entries(data.files).map(([k, f]) => [
          k,
          { package: f.package, path: expand(f.path, `files.${k}`) },
        ]),
      ) as UbuntuData['files'];
      return prepareDistroSource(
        {
          distro: 'ubuntu',
          release,
          resolve: () => resolveArtifacts(release, options),
          files,
          ...(data.modules
            ? {
                modules: {
                  packages: data.modules.packages,
                  path: expand(data.modules.path, 'modules.path'),
                },
              }
            : {}),
          makefile: Object.fromEntries(
            Object.entries(data.makefile).map(([k, v]) => [k, expand(v, `makefile.${k}`)]),
          ),
          utsDefines: utsDefineLines(
            Object.fromEntries(
              Object.entries(data.utsDefines).map(([k, v]) => [k, expand(v, `utsDefines.${k}`)]),
            ),
          ),
          unpackSource: async (paths, tree) => {
            const dsc = paths.get('dsc');
            if (!dsc) throw new Error('no .dsc among the source artifacts'); // resolveUbuntuArtifacts ensures one
            await unpackDsc(dsc, tree, { signal: options.signal });
          },
        },
        options,
      );
    },
    kbuildRecipe: distroKbuildRecipe,
  };
}
