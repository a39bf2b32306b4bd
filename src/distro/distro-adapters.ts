/** The adapter of each supported distro, by os-release ID. */
import { DistroError } from '../errors.js';
import { debianAdapter } from './debian-adapter.js';
import { ADAPTER_DISTROS, type AdapterDistro, DISTRO_IDS, type DistroAdapter } from './distro-adapter.js';
import { rpmAdapter } from './rpm-adapter.js';
import { ubuntuAdapter } from './ubuntu-adapter.js';

export function isAdapterDistro(id: string): id is AdapterDistro {
  return (ADAPTER_DISTROS as readonly string[]).includes(id);
}

/** The adapter for an os-release ID (debian, ubuntu, fedora, centos, almalinux, rocky, ol). */
export function distroAdapter(id: string): DistroAdapter {
  if (id === 'debian') return debianAdapter();
  if (!isAdapterDistro(id)) {
    throw new DistroError(`no distro adapter for "${id}"`, {
      hint: `adapters exist for: ${DISTRO_IDS.join(', ')}`,
    });
  }
  return id === 'ubuntu' ? ubuntuAdapter() : rpmAdapter(id);
}
