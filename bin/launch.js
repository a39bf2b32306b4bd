// Shared by every launcher in bin/: load TypeScript sources through tsx and run one CLI entry.
import { register } from 'tsx/esm/api';

register();

/** @param {string} name command name for messages @param {string} entry path relative to src/cli */
export async function launch(name, entry) {
  const { runCli } = await import('../src/cli/run-cli.ts');
  const { main } = await import(new URL(`../src/cli/${entry}`, import.meta.url).href);
  await runCli(name, main);
}
