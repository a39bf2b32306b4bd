/**
 * Fedora and the RHEL family (CentOS Stream, AlmaLinux, Rocky Linux, Oracle Linux RHCK): release
 * "<version>-<rel>.<arch>" (6.5.6-300.fc39.x86_64, 5.14.0-362.el9.x86_64) ↔ package version
 * "<version>-<rel>". Source: the kernel SRPM, prepared by its %prep (srpm-prep.ts). config and
 * Module.symvers: kernel-devel (usr/src/kernels/<release>/); System.map: kernel-core
 * (lib/modules/<release>/System.map). Release rule: EXTRAVERSION = -<rel>.<arch>, as kernel.spec sets it.
 * Everything specific to a distro is in distro/<id>.json.
 */
import { cacheRoot } from '../source/cache-dir.js';
import {
  expandRequired,
  loadAdapterData,
  mirrorsFor,
  parseReleaseWith,
  type RpmData,
} from './adapter-data.js';
import {
  ADAPTER_DISTROS,
  type AdapterDistro,
  type DistroAdapter,
  type PrepareDistroOptions,
  type ResolveOptions,
} from './distro-adapter.js';
import { distroKbuildRecipe } from './distro-kbuild-recipe.js';
import { checkLocalSrpm } from './local-srpm.js';
import { prepareDistroSource } from './prepare-distro-source.js';
import { resolveRpmArtifacts } from './rpm-artifacts.js';
import { prepFromSrpm } from './srpm-prep.js';

export type RpmDistro = Exclude<AdapterDistro, 'ubuntu'>;

export function isRpmDistro(id: string): id is RpmDistro {
  return id !== 'ubuntu' && (ADAPTER_DISTROS as readonly string[]).includes(id);
}

export function rpmAdapter(id: RpmDistro): DistroAdapter {
  const data = loadAdapterData<RpmData>(id);
  const parseRelease = (release: string) => parseReleaseWith(data, release);
  const resolveArtifacts = (release: string, options: ResolveOptions = {}) =>
    resolveRpmArtifacts(data, parseRelease(release), mirrorsFor(data, options.mirror), {
      ...options,
      cacheDir: options.cacheDir ?? cacheRoot(),
    });
  return {
    id,
    name: data.label,
    description: data.description,
    parseRelease,
    resolveArtifacts,
    async prepareSource(release: string, options: PrepareDistroOptions = {}) {
      const values = parseRelease(release).parts;
      const expand = (t: string, what: string) => expandRequired(t, values, what);
      const files = Object.fromEntries(
        Object.entries(data.files).map(([k, f]) => [
          k,
          { package: f.package, path: expand(f.path, `files.${k}`) },
        ]),
      ) as RpmData['files'];
      const localSource = options.sourcePackage
        ? await checkLocalSrpm(options.sourcePackage, {
            name: data.source.name,
            version: values.version ?? '',
            rel: values.rel ?? '',
            release,
          })
        : undefined;
      return prepareDistroSource(
        {
          distro: id,
          release,
          ...(localSource ? { localSource } : {}),
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
          utsDefines: [],
          unpackSource: async (paths, tree, logFile) => {
            const srpm = paths.get('srpm');
            if (!srpm) throw new Error('no SRPM among the source artifacts'); // resolveRpmArtifacts ensures one
            await prepFromSrpm(srpm, tree, {
              spec: data.prep.spec,
              defines: Object.fromEntries(
                Object.entries(data.prep.defines).map(([k, v]) => [k, expand(v, `prep.defines.${k}`)]),
              ),
              treeName: expand(data.prep.treeName, 'prep.treeName'),
              arch: values.arch ?? 'x86_64',
              logFile,
              signal: options.signal,
            });
          },
        },
        options,
      );
    },
    kbuildRecipe: distroKbuildRecipe,
  };
}
