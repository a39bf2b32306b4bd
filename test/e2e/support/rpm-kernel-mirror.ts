import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AdapterDistro } from '../../../src/distro/distro-adapter.js';
import { loadDistroData } from '../../../src/distro/distro-data.js';
import { fetchDebianPackages } from '../../../src/distro/fetch-debian-packages.js';
import type { TestKernelConfig } from '../../../src/distro/prepare-test-kernel.js';
import { prepareTestKernel } from '../../../src/distro/prepare-test-kernel.js';
import type { TargetKernel } from '../../../src/distro/target.js';
import { extractDeb } from '../../../src/source/deb.js';
import { buildKernelRpms, publishRpms } from '../../distro/distro-fixtures.js';
import { type DirectoryServer, serveDirectory } from '../../source/helpers.js';

// A distro patch the SRPM's %prep applies (README only: the built kernel is the unpatched source's).
export const README_PATCH = [
  '--- a/README',
  '+++ b/README',
  '@@ -1,6 +1,8 @@',
  ' Linux kernel',
  ' ============',
  ' ',
  '+RPM fixture: applied by the SRPM %prep',
  '+',
  ' There are several guides for kernel developers and users. These guides can',
  ' be rendered in a number of formats, like HTML and PDF. Please read',
  ' Documentation/admin-guide/README.rst first.',
  '',
].join('\n');

export interface RpmKernelMirror {
  kernel: TargetKernel;
  /** Scratch directory: mirror/ (the served root) and whatever the test adds. */
  work: string;
  server: DirectoryServer;
  close(): Promise<void>;
}

/**
 * A real kernel packaged as an RPM distro packages it, served on 127.0.0.1 in the distro's layout: the
 * test kernel's source and build (release <version>-<relBase><dist>.x86_64) as a kernel SRPM whose %prep
 * unpacks the real tarball, kernel-devel (.config, Module.symvers), kernel-core (System.map, vmlinuz) and
 * kernel-modules (samples/kobject as .ko.xz), with repodata where the distro has repositories.
 */
export async function serveRpmKernel(fx: {
  id: AdapterDistro;
  version: string;
  relBase: string;
  dist: string;
}): Promise<RpmKernelMirror> {
  const suffix = `-${fx.relBase}${fx.dist}.x86_64`;
  const kernel = await prepareTestKernel({ extraversion: suffix });
  const release = `${fx.version}${suffix}`;
  if (kernel.release !== release) throw new Error(`test kernel is ${kernel.release}, not ${release}`);
  const work = await mkdtemp(join(tmpdir(), `e2e-kpatch-${fx.id}-`));
  const { sourcePackage, sourceTarball } = loadDistroData<TestKernelConfig>('test-kernel');
  const [deb] = await fetchDebianPackages([sourcePackage]);
  if (!deb) throw new Error(`${sourcePackage} was not downloaded`);
  await extractDeb(deb.path, join(work, 'deb'), { filter: [sourceTarball] });
  const rpmFixture = {
    ...fx,
    release,
    patch: README_PATCH,
    real: {
      tarball: join(work, 'deb', sourceTarball),
      topDir: 'linux-source-6.1',
      config: kernel.config,
      moduleSymvers: kernel.moduleSymvers,
      systemMap: kernel.symbols.path,
      image: kernel.image,
      modules: {
        'kernel/samples/kobject/kobject-example.ko': join(
          kernel.sourceDir ?? '',
          'samples/kobject/kobject-example.ko',
        ),
      },
    },
  };
  const rpms = await buildKernelRpms(join(work, 'build'), rpmFixture);
  const root = join(work, 'mirror');
  const server = await serveDirectory(root);
  await publishRpms(root, server.url, rpmFixture, rpms);
  await rm(join(work, 'deb'), { recursive: true, force: true });
  await rm(join(work, 'build'), { recursive: true, force: true });
  return {
    kernel,
    work,
    server,
    close: async () => {
      await server.close();
      await rm(work, { recursive: true, force: true });
    },
  };
}
