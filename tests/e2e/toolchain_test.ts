/**
 * The toolchain wrapper (scripts/deno) and `deno task start` as a user meets them.
 */
import assert from "node:assert/strict";
import denoJson from "../../deno.json" with { type: "json" };
import { ROOT } from "../support/oomhero_process.ts";
import { NOBODY, nobodyUnavailable } from "../support/as_nobody.ts";

const PINNED = Deno.readTextFileSync(`${ROOT}.deno-version`).trim();

async function run(cmd: string, args: string[], opts: { cwd?: string; path?: string } = {}) {
  const out = await new Deno.Command(cmd, {
    args,
    cwd: opts.cwd ?? ROOT,
    // The rest of the environment stays: npm needs it (certificates, cache) to reach its registry.
    env: { PATH: opts.path ?? "/usr/local/bin:/usr/bin:/bin", NO_COLOR: "1" },
    stdin: "null",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/** A directory holding a fake `deno` that reports `version` and prints FAKE for anything else. */
function fakeDeno(version: string): string {
  const dir = Deno.makeTempDirSync({ prefix: "oomhero-fake-deno-" });
  Deno.writeTextFileSync(
    `${dir}/deno`,
    `#!/bin/sh\nif [ "$1" = --version ]; then echo "deno ${version} (fake)"; else echo FAKE; fi\n`,
    { mode: 0o755 },
  );
  return dir;
}

Deno.test("scripts/deno runs the pinned Deno version", async () => {
  const r = await run(`${ROOT}scripts/deno`, ["--version"]);
  assert.equal(r.code, 0);
  assert.match(r.stdout, new RegExp(`^deno ${PINNED.replaceAll(".", "\\.")} `));
});

Deno.test("scripts/deno installs from npm once, then runs silently", async () => {
  // A copy of just the wrapper and the pin, with no toolchain installed yet.
  const repo = Deno.makeTempDirSync({ prefix: "oomhero-toolchain-" });
  try {
    Deno.mkdirSync(`${repo}/scripts`);
    Deno.copyFileSync(`${ROOT}scripts/deno`, `${repo}/scripts/deno`);
    Deno.chmodSync(`${repo}/scripts/deno`, 0o755);
    Deno.copyFileSync(`${ROOT}.deno-version`, `${repo}/.deno-version`);
    const first = await run(`${repo}/scripts/deno`, ["eval", "console.log(Deno.version.deno)"], {
      cwd: repo,
    });
    assert.equal(first.code, 0, first.stderr);
    assert.equal(first.stdout.trim(), PINNED);
    assert.match(first.stderr, /installing Deno/);
    const second = await run(`${repo}/scripts/deno`, ["eval", "console.log(Deno.version.deno)"], {
      cwd: repo,
    });
    assert.equal(second.code, 0);
    assert.equal(second.stdout.trim(), PINNED);
    assert.equal(second.stderr, "", "the second run prints nothing of its own");
  } finally {
    Deno.removeSync(repo, { recursive: true });
  }
});

Deno.test("scripts/deno prefers a deno on PATH of exactly the pinned version", async () => {
  const same = fakeDeno(PINNED);
  const other = fakeDeno("1.0.0");
  try {
    const used = await run(`${ROOT}scripts/deno`, ["eval", "1"], { path: `${same}:/usr/bin:/bin` });
    assert.equal(used.stdout.trim(), "FAKE");
    const ignored = await run(`${ROOT}scripts/deno`, ["eval", "console.log(1)"], {
      path: `${other}:/usr/bin:/bin`,
    });
    assert.equal(ignored.stdout.trim(), "1");
  } finally {
    Deno.removeSync(same, { recursive: true });
    Deno.removeSync(other, { recursive: true });
  }
});

Deno.test("deno task -q start passes arguments through and prints only oomhero's output", async () => {
  const r = await run(`${ROOT}scripts/deno`, ["task", "-q", "start", "--version"]);
  assert.equal(r.code, 0);
  assert.equal(r.stdout, `oomhero ${denoJson.version} (deno ${PINNED})\n`);
  assert.equal(r.stderr, "");
  const spaced = await run(`${ROOT}scripts/deno`, [
    "task",
    "-q",
    "start",
    "--warning",
    "memory_usage >",
    "--critical=x",
  ]);
  assert.equal(spaced.code, 2);
  assert.match(spaced.stderr, /^oomhero: --warning: invalid expression: .*\n$/);
});

Deno.test({
  name: "scripts/deno says in one line which DENO_DIR to set when the cache is not the user's",
  ignore: nobodyUnavailable() !== undefined,
  async fn() {
    // Root's cache as nobody would meet it: there, readable, not writable.
    const rootsCache = Deno.makeTempDirSync({ prefix: "oomhero-roots-deno-dir-" });
    try {
      Deno.chmodSync(rootsCache, 0o755);
      const out = await new Deno.Command("setpriv", {
        args: [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, "--clear-groups", `${ROOT}scripts/deno`],
        cwd: ROOT,
        env: { PATH: "/usr/local/bin:/usr/bin:/bin", DENO_DIR: rootsCache, NO_COLOR: "1" },
        stdin: "null",
      }).output();
      const stderr = new TextDecoder().decode(out.stderr);
      assert.equal(out.code, 1, stderr);
      assert.equal(out.stdout.length, 0);
      assert.equal(
        stderr,
        `scripts/deno: Deno's cache directory ${rootsCache} is not writable by nobody; ` +
          "set DENO_DIR to a directory you own\n",
      );
    } finally {
      Deno.removeSync(rootsCache, { recursive: true });
    }
  },
});
