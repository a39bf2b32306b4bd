/** The adapter of each supported non-Debian distro, by os-release ID. */
import { DistroError } from '../errors.js';
import { ADAPTER_DISTROS, type AdapterDistro, type DistroAdapter } from './distro-adapter.js';
import { rpmAdapter } from './rpm-adapter.js';
import { ubuntuAdapter } from './ubuntu-adapter.js';

export function isAdapterDistro(id: string): id is AdapterDistro {
  return (ADAPTER_DISTROS as readonly string[]).includes(id);
}

/** The adapter for an os-release ID (ubuntu, fedora, centos, almalinux, rocky, ol). */
export function distroAdapter(id: string): DistroAdapter {
  if (!isAdapterDistro(id)) {
    throw new DistroError(`no distro adapter for "${id}"`, {
      hint: `adapters exist for: ${ADAPTER_DISTROS.join(', ')}`,
    });
  }
  return id === 'ubuntu' ? ubuntuAdapter() : rpmAdapter(id);
}
