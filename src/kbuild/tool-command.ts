/** A command as execa runs it; a toolchain may rewrite it to run elsewhere (inside a build root). */
export interface ToolCommand {
  file: string;
  args: string[];
  cwd?: string;
}

/** Rewrites a command so that it runs with a toolchain's compiler (identity on the host). */
export type WrapCommand = (command: ToolCommand) => ToolCommand;
