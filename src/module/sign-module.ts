/**
 * kpatch-build --sign-key/--sign-cert: a kernel that enforces module signatures (CONFIG_MODULE_SIG_FORCE,
 * or lockdown under secure boot) loads only modules signed by a key it trusts. The module is signed with
 * the target's own scripts/sign-file, after klp-convert: the signature covers the final bytes, so nothing
 * may rewrite the ELF afterwards.
 */
import { access, open, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { BuildError, UsageError } from '../errors.js';

export interface SigningKey {
  /** Private key (PEM; may also hold the certificate), or a PKCS#11 URI. */
  key: string;
  /** X.509 certificate (PEM or DER) of the key, the one the kernel trusts. */
  cert: string;
}

/** What sign-file appends after the PKCS#7 signature and its descriptor (include/linux/module_signature.h). */
export const MODULE_SIGNATURE_MAGIC = '~Module signature appended~\n';

const exists = (path: string) =>
  access(path).then(
    () => true,
    () => false,
  );

const isPkcs11 = (key: string) => key.startsWith('pkcs11:');

/** CONFIG_MODULE_SIG_HASH of a .config (e.g. sha256), or undefined when the kernel does not sign modules. */
export function moduleSigHash(configText: string): string | undefined {
  if (!/^CONFIG_MODULE_SIG=y$/m.test(configText)) return undefined;
  return /^CONFIG_MODULE_SIG_HASH="([a-z0-9-]+)"$/m.exec(configText)?.[1];
}

/** True when the file ends with the module signature marker. */
export async function hasModuleSignature(ko: string): Promise<boolean> {
  const handle = await open(ko, 'r');
  try {
    const { size } = await handle.stat();
    const tail = Buffer.alloc(MODULE_SIGNATURE_MAGIC.length);
    if (size < tail.length) return false;
    await handle.read(tail, 0, tail.length, size - tail.length);
    return tail.toString('latin1') === MODULE_SIGNATURE_MAGIC;
  } finally {
    await handle.close();
  }
}

/** Refuses a missing key or certificate before anything is built. */
export async function checkSigningKey(sign: SigningKey): Promise<void> {
  if (!isPkcs11(sign.key) && !(await exists(sign.key))) {
    throw new UsageError(`--sign-key: ${sign.key} does not exist`, {
      hint: 'the private key (PEM) matching the certificate the target kernel trusts',
    });
  }
  if (!(await exists(sign.cert))) {
    throw new UsageError(`--sign-cert: ${sign.cert} does not exist`, {
      hint: 'the X.509 certificate (PEM or DER) the target kernel trusts',
    });
  }
}

/**
 * Signs KO in place with BUILDDIR/scripts/sign-file, the hash the target's .config names. BUILDDIR is where
 * the module was built: a kernel tree, or a distro's headers (Debian's carry sign-file from linux-kbuild).
 */
export async function signModule(ko: string, buildDir: string, sign: SigningKey): Promise<void> {
  const configFile = join(buildDir, '.config');
  const hash = moduleSigHash(await readFile(configFile, 'utf8').catch(() => ''));
  if (!hash) {
    throw new UsageError(
      `${configFile}: the target kernel has no CONFIG_MODULE_SIG: it checks no signatures`,
      {
        hint: 'drop --sign-key/--sign-cert for this kernel',
      },
    );
  }
  const signFile = join(buildDir, 'scripts', 'sign-file');
  if (!(await exists(signFile))) {
    throw new BuildError(`${signFile} does not exist: the kernel's module signing tool was not built`, {
      hint: `build it in the tree (make -C ${buildDir} scripts)`,
    });
  }
  const result = await execa(signFile, [hash, sign.key, sign.cert, ko], { reject: false, all: true });
  if (result.exitCode !== 0) {
    throw new BuildError(`sign-file could not sign ${ko}: ${String(result.all).trim()}`, {
      hint: 'check that --sign-key is the private key of --sign-cert and that both are readable',
    });
  }
  if (!(await hasModuleSignature(ko))) {
    throw new BuildError(`sign-file left no module signature on ${ko}`);
  }
}
