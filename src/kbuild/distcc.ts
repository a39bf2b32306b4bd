/**
 * Affected-object compiles over distcc, as kbuild does it with `make CC="distcc gcc-12"`: each recorded
 * compile runs as `distcc <the recorded compiler> ...`, so the compiler is exactly the kernel's; distcc
 * preprocesses locally (kbuild's -Wp,-MMD dependency files are written here) and sends the preprocessed
 * source to a host of DISTCC_HOSTS, which must run the very same compiler version. Where the toolchain is
 * a build root, distcc runs inside the root (it must be installed there) and the servers need the root's
 * compiler. Nothing else goes over distcc: make (prepare, --full-build), objtool and the module build stay
 * local.
 */
import { execa } from 'execa';
import { BuildError } from '../errors.js';
import { hostToolchain, type Toolchain } from './toolchain.js';

/** --distcc, or a non-empty DISTCC_HOSTS in the environment. */
export function distccRequested(flag: boolean, env: NodeJS.ProcessEnv): boolean {
  return flag || (env.DISTCC_HOSTS ?? '').trim() !== '';
}

/** `distcc -j`'s answer: the job slots of every host; undefined when distcc could not read any host. */
export function parseDistccSlots(stdout: string): number | undefined {
  const text = stdout.trim();
  if (!/^\d+$/.test(text)) return undefined;
  const slots = Number(text);
  return slots > 0 ? slots : undefined;
}

/** distcc's own complaint (it exits 0 even when it finds no host), for the error message. */
function distccComplaint(stderr: string): string {
  const lines = stderr.split('\n').filter((l) => /ERROR|CRITICAL|Warning/.test(l));
  return lines.map((l) => l.replace(/^distcc\[\d+\] /, '').trim()).join(' | ') || 'no host list';
}

function isHost(toolchain: Toolchain): boolean {
  return toolchain === hostToolchain;
}

async function run(toolchain: Toolchain, script: string) {
  const command = toolchain.command({ file: 'sh', args: ['-c', script] });
  return execa(command.file, command.args, { reject: false, ...(command.cwd ? { cwd: command.cwd } : {}) });
}

/** distcc is there (on the host, or inside the build root) and knows its hosts: their job slots. */
export async function probeDistcc(toolchain: Toolchain): Promise<number> {
  const where = isHost(toolchain) ? 'this machine' : `the ${toolchain.name}`;
  const found = await run(toolchain, 'command -v distcc');
  if (found.failed) {
    throw new BuildError(`distcc was asked for (DISTCC_HOSTS or --distcc) but ${where} has no distcc`, {
      hint: isHost(toolchain)
        ? 'apt-get install distcc, or unset DISTCC_HOSTS to compile locally'
        : 'install distcc inside the build root (chroot into it: apt-get install distcc), or unset DISTCC_HOSTS',
    });
  }
  const slots = await run(toolchain, 'distcc -j');
  const count = parseDistccSlots(slots.stdout);
  if (count === undefined) {
    throw new BuildError(`distcc has no usable host list: ${distccComplaint(slots.stderr)}`, {
      hint: 'set DISTCC_HOSTS, e.g. "build1/4 build2:3632/8" (see man distcc, HOST SPECIFICATIONS)',
    });
  }
  return count;
}

/**
 * `toolchain` with every affected-object compile launched by distcc and as many compiles at once as
 * distcc has job slots. make and the probes are unchanged.
 */
export async function distccToolchain(toolchain: Toolchain): Promise<Toolchain> {
  const slots = await probeDistcc(toolchain);
  return {
    name: toolchain.name,
    make: toolchain.make,
    command: toolchain.command,
    compile: (options) => toolchain.compile({ ...options, launcher: ['distcc'] }),
    compileSlots: Math.max(slots, toolchain.compileSlots ?? 0),
  };
}
