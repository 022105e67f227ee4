/**
 * Runs programs as the unprivileged user nobody (uid and gid 65534) through `setpriv`: root
 * bypasses file modes and may signal anything, so EACCES and EPERM need another user. Deno needs
 * its npm cache readable there, so a copy of it is made for the run.
 * @module
 */

/** The uid and gid of nobody. */
export const NOBODY = 65534;

/** How to run a command as nobody: prefix the argv and add the environment. */
export interface Unprivileged {
  /** `setpriv …` to put before the program. */
  prefix: string[];
  /** DENO_DIR pointing at nobody's copy of the npm cache. */
  env: Record<string, string>;
  /** Removes the copy. */
  cleanup(): void;
}

/** Why running as nobody is impossible here, or undefined when it is possible. */
export function nobodyUnavailable(): string | undefined {
  if (Deno.build.os !== "linux") return "not Linux";
  if (Deno.uid() !== 0) return "not root, cannot switch to nobody";
  try {
    new Deno.Command("setpriv", { args: ["--version"], stdout: "null", stderr: "null" })
      .outputSync();
  } catch {
    return "no setpriv (util-linux)";
  }
  return undefined;
}

/** Where this Deno keeps npm packages, from `deno info --json`. */
function npmCache(): string {
  const out = new Deno.Command(Deno.execPath(), { args: ["info", "--json"], stderr: "null" })
    .outputSync();
  return JSON.parse(new TextDecoder().decode(out.stdout)).npmCache;
}

/** Prepares a run as nobody; call `cleanup()` when done. */
export function asNobody(): Unprivileged {
  const dir = Deno.makeTempDirSync({ prefix: "oomhero-nobody-" });
  const copy = new Deno.Command("cp", { args: ["-r", npmCache(), `${dir}/npm`] }).outputSync();
  if (!copy.success) throw new Error(`cannot copy the npm cache to ${dir}`);
  new Deno.Command("chown", { args: ["-R", `${NOBODY}:${NOBODY}`, dir] }).outputSync();
  return {
    prefix: ["setpriv", `--reuid=${NOBODY}`, `--regid=${NOBODY}`, "--clear-groups"],
    env: { DENO_DIR: dir },
    cleanup: () => Deno.removeSync(dir, { recursive: true }),
  };
}

/** Makes `dir` and everything under it world-readable and its directories world-searchable. */
export function openToNobody(dir: string): void {
  new Deno.Command("chmod", { args: ["-R", "a+rX", dir] }).outputSync();
}
