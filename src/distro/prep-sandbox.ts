/**
 * A source RPM's %prep is shell code from the package: with -r it comes from the user's file, so it is
 * treated as untrusted. It runs without network, in a private mount namespace where its work directory is the only
 * writable place it can reach: the work directory is bind-mounted on /tmp (its _topdir), and /var/tmp,
 * /dev/shm and /run/lock are fresh empty tmpfs that vanish with it. Run as root, it also drops to
 * nobody with no capabilities and no_new_privs, so the rest of the file system is read-only to it
 * (measured: writes to /root and the host's /tmp, /var/tmp, /dev/shm all fail). As another user, the
 * user namespace cannot change uid: %prep can still write that user's own files (docs/trust-model.md).
 */
import { execa } from 'execa';
import { SourceError } from '../errors.js';

/** Where the work directory appears inside the sandbox. */
export const SANDBOX_TOPDIR = '/tmp';

const NOBODY = '65534';
const SCRATCH_MOUNTS = ['/var/tmp', '/dev/shm', '/run/lock'];

function isRoot(): boolean {
  return process.getuid?.() === 0;
}

/**
 * The command line that runs `file args` sandboxed over `work` (see above): mounts are made by a small
 * sh script as (namespace) root, then it execs the command, as nobody when we are root.
 */
export function sandboxedCommand(work: string, file: string, args: readonly string[]) {
  const scratch = SCRATCH_MOUNTS.map(
    (dir) => `{ [ ! -d ${dir} ] || mount -t tmpfs -o size=64m tmpfs ${dir}; }`,
  );
  const drop = isRoot()
    ? [
        'setpriv',
        `--reuid=${NOBODY}`,
        `--regid=${NOBODY}`,
        '--clear-groups',
        '--no-new-privs',
        '--inh-caps=-all',
        '--bounding-set=-all',
      ]
    : [];
  const script = [
    `mount --bind "$0" ${SANDBOX_TOPDIR}`,
    ...scratch,
    `cd ${SANDBOX_TOPDIR}`,
    'exec "$@"',
  ].join(' && ');
  // --net: an empty network namespace (loopback down): %prep needs no network, an escape gets none.
  const namespaces = isRoot() ? ['--mount', '--net'] : ['--user', '--map-root-user', '--mount', '--net'];
  return {
    file: 'unshare',
    args: [...namespaces, '--propagation', 'private', 'sh', '-c', script, work, ...drop, file, ...args],
  };
}

/** As root: the work directory is handed to nobody before %prep, and taken back after. */
export async function chownWork(work: string, to: 'sandbox' | 'caller'): Promise<void> {
  if (!isRoot()) return;
  const owner = to === 'sandbox' ? `${NOBODY}:${NOBODY}` : `${process.getuid?.()}:${process.getgid?.()}`;
  const result = await execa('chown', ['-R', '--no-dereference', owner, work], { reject: false });
  if (result.failed) {
    throw new SourceError(`cannot hand ${work} to the %prep sandbox: ${result.stderr.trim()}`, {
      hint: 'the cache must be on a file system that supports chown',
    });
  }
}
