import { gzipSync } from 'node:zlib';

/** One entry of a newc ("070701") cpio archive, the format the kernel unpacks as initramfs. */
export interface CpioEntry {
  /** Path inside the archive, without a leading slash. */
  path: string;
  kind: 'file' | 'dir' | 'symlink' | 'chardev';
  /** Permission bits (e.g. 0o755). */
  mode: number;
  /** File contents, or the link target for symlinks. */
  data?: Buffer | string;
  /** Device number for 'chardev' entries (e.g. /dev/console is 5:1). */
  rdev?: { major: number; minor: number };
}

const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;
const S_IFLNK = 0o120000;
const S_IFCHR = 0o020000;
const TYPE_BITS = { file: S_IFREG, dir: S_IFDIR, symlink: S_IFLNK, chardev: S_IFCHR } as const;

function hex8(value: number): string {
  return value.toString(16).padStart(8, '0');
}

function pad4(length: number): Buffer {
  return Buffer.alloc((4 - (length % 4)) % 4);
}

interface HeaderFields {
  ino: number;
  mode: number;
  nlink: number;
  size: number;
  nameSize: number;
  rdev?: { major: number; minor: number } | undefined;
}

function header(f: HeaderFields): string {
  // Fields: ino mode uid gid nlink mtime filesize devmajor devminor rdevmajor rdevminor namesize check
  const rdev = f.rdev ?? { major: 0, minor: 0 };
  const fields = [f.ino, f.mode, 0, 0, f.nlink, 0, f.size, 0, 0, rdev.major, rdev.minor, f.nameSize, 0];
  return `070701${fields.map(hex8).join('')}`;
}

/** Serialises entries into an uncompressed newc archive. Parent directories must be listed explicitly. */
export function writeCpioNewc(entries: readonly CpioEntry[]): Buffer {
  const parts: Buffer[] = [];
  let ino = 1;
  const push = (headerText: string, name: string, data: Buffer) => {
    const head = Buffer.from(headerText + name + '\0', 'latin1');
    parts.push(head, pad4(head.length), data, pad4(data.length));
  };
  for (const entry of entries) {
    if (entry.path.startsWith('/') || entry.path.split('/').includes('..')) {
      throw new Error(`cpio entry path must be relative and inside the archive: ${entry.path}`);
    }
    const data = entry.data === undefined ? Buffer.alloc(0) : Buffer.from(entry.data);
    const nameBytes = Buffer.byteLength(entry.path, 'latin1') + 1;
    const mode = TYPE_BITS[entry.kind] | (entry.mode & 0o7777);
    const nlink = entry.kind === 'dir' ? 2 : 1;
    push(
      header({ ino: ino++, mode, nlink, size: data.length, nameSize: nameBytes, rdev: entry.rdev }),
      entry.path,
      data,
    );
  }
  push(
    header({ ino: 0, mode: 0, nlink: 1, size: 0, nameSize: 'TRAILER!!!'.length + 1 }),
    'TRAILER!!!',
    Buffer.alloc(0),
  );
  return Buffer.concat(parts);
}

export function writeCpioNewcGz(entries: readonly CpioEntry[]): Buffer {
  return gzipSync(writeCpioNewc(entries), { level: 1 });
}
