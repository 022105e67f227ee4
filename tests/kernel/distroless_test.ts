/**
 * Runs oomhero in a root directory that holds no more than gcr.io/distroless/cc-debian12 gives it:
 * the Deno binary, the shared libraries it links against, the program and its cached module
 * graph. No shell, no /etc, no /tmp, no /dev. The root is mounted read-only, as Kubernetes'
 * readOnlyRootFilesystem does, and only /proc and /sys/fs/cgroup are bound in. The mounts live in
 * a private mount namespace (`unshare --mount`), so they vanish with the run and never reach the
 * host. Linux only, and root only (mount namespaces, chroot).
 *
 * The image ships a `deno compile` binary rather than `deno run`: the runtime it embeds (denort)
 * is the same Deno without the tooling. Compiling downloads denort, which a machine without access
 * to the Deno release host cannot do; the last test accepts that, provided scripts/compile says so
 * in one line.
 * @module
 */
import assert from "node:assert/strict";
import denoJson from "../../deno.json" with { type: "json" };
import {
  freePort,
  ROOT,
  RUNTIME_ENV,
  RUNTIME_FLAGS,
  RUNTIME_LAUNCHER,
} from "../../scripts/runtime_flags.ts";

/**
 * Shared libraries that cc-debian12 provides: glibc's (libc6), libgcc_s (libgcc-s1), libgomp
 * (libgomp1) and libstdc++ (libstdc++6), plus glibc's dynamic loaders.
 */
const DISTROLESS_CC_LIBRARIES: ReadonlySet<string> = new Set([
  "ld-linux-x86-64.so.2",
  "ld-linux-aarch64.so.1",
  "libc.so.6",
  "libdl.so.2",
  "libm.so.6",
  "libpthread.so.0",
  "libresolv.so.2",
  "librt.so.1",
  "libutil.so.1",
  "libgcc_s.so.1",
  "libgomp.so.1",
  "libstdc++.so.6",
]);

/** Top-level entries a distroless-like root must not need. */
const ABSENT: readonly string[] = ["bin", "dev", "etc", "sbin", "tmp", "var"];

/** Paths inside the root. */
const DENO = "/deno";
const APP = "/app";
const DENO_DIR = "/deno-dir";

/** Runs in the new mount namespace: read-only root, /proc and cgroupfs bound in, then chroot. */
const ENTER_ROOT = [
  'mount --bind "$0" "$0"',
  'mount -o remount,bind,ro "$0"',
  'mount --bind /proc "$0/proc"',
  'mount --rbind /sys/fs/cgroup "$0/sys/fs/cgroup"',
  `exec env -i DENO_DIR=${DENO_DIR} DENO_NO_UPDATE_CHECK=1 NO_COLOR=1 ${RUNTIME_ENV.join(" ")} ` +
  '"$(command -v chroot)" "$0" "$@"',
].join(" && ");

const decoder = new TextDecoder();

/** Runs a host program to completion; throws with its stderr when it fails. */
async function run(
  program: string,
  args: string[],
  options: Deno.CommandOptions = {},
): Promise<string> {
  const out = await new Deno.Command(program, { args, stdin: "null", ...options }).output();
  const stderr = decoder.decode(out.stderr);
  assert.equal(out.code, 0, `${program} ${args.join(" ")} failed:\n${stderr}`);
  return decoder.decode(out.stdout);
}

/** The libraries `ldd` lists for a binary, dynamic loader included (the vDSO is the kernel's). */
async function sharedLibraries(binary: string): Promise<string[]> {
  const listing = await run("ldd", [binary]);
  return listing.split("\n").flatMap((line) => {
    const path = line.match(/(?:=>\s*)?(\/\S+)\s+\(0x[0-9a-f]+\)/)?.[1];
    return path ? [path] : [];
  });
}

async function copyTree(from: string, to: string): Promise<void> {
  await Deno.mkdir(to, { recursive: true });
  for await (const entry of Deno.readDir(from)) {
    const source = `${from}/${entry.name}`;
    const target = `${to}/${entry.name}`;
    if (entry.isDirectory) await copyTree(source, target);
    else await Deno.copyFile(source, target);
  }
}

/** Fills `dir` with the minimal root and returns the shared libraries copied into it. */
async function buildRoot(dir: string): Promise<string[]> {
  const host = Deno.execPath();
  await Deno.copyFile(host, `${dir}${DENO}`);
  const libraries = await sharedLibraries(host);
  for (const library of libraries) {
    await Deno.mkdir(`${dir}${library.slice(0, library.lastIndexOf("/"))}`, { recursive: true });
    await Deno.copyFile(library, `${dir}${library}`);
  }
  for (const file of ["deno.json", "deno.lock"]) {
    await Deno.mkdir(`${dir}${APP}`, { recursive: true });
    await Deno.copyFile(`${ROOT}${file}`, `${dir}${APP}/${file}`);
  }
  await copyTree(`${ROOT}src`, `${dir}${APP}/src`);
  // The host Deno fills the root's module cache; the run inside must then need no network.
  await run(host, ["cache", "src/main.ts"], {
    cwd: `${dir}${APP}`,
    env: { DENO_DIR: `${dir}${DENO_DIR}`, DENO_NO_UPDATE_CHECK: "1", NO_COLOR: "1" },
  });
  await Deno.mkdir(`${dir}/proc`);
  await Deno.mkdir(`${dir}/sys/fs/cgroup`, { recursive: true });
  return libraries;
}

/** The command that runs oomhero with `args` inside `root`, in its own mount namespace. */
function inRoot(root: string, args: string[], namespaces: string[]): Deno.Command {
  // The launcher (SIGUSR1 blocked) starts it all: the mask survives unshare, sh, env and chroot.
  return new Deno.Command(RUNTIME_LAUNCHER[0], {
    args: [
      ...RUNTIME_LAUNCHER.slice(1),
      "unshare",
      "--mount",
      ...namespaces,
      "--propagation",
      "private",
      "sh",
      "-c",
      ENTER_ROOT,
      root,
      DENO,
      "run",
      ...RUNTIME_FLAGS,
      `${APP}/src/main.ts`,
      ...args,
    ],
    clearEnv: true,
    env: { PATH: "/usr/sbin:/usr/bin:/sbin:/bin" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  });
}
/** Resolves `promise`, or rejects after `ms` with `what` in the message. */
async function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no result within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

Deno.test({
  name: "distroless: oomhero runs in a root holding only Deno, its libraries and the program",
  ignore: Deno.build.os !== "linux",
  async fn(t) {
    const dir = await Deno.makeTempDir({ prefix: "oomhero-distroless-" });
    try {
      const libraries = await buildRoot(dir);
      await t.step("the root holds only what distroless cc provides", async () => {
        const foreign = libraries.filter((l) => !DISTROLESS_CC_LIBRARIES.has(l.split("/").pop()!));
        assert.deepEqual(foreign, [], "Deno links against libraries distroless cc lacks");
        assert.ok(libraries.some((l) => l.includes("/ld-linux")), "ldd listed no dynamic loader");
        const top: string[] = [];
        for await (const entry of Deno.readDir(dir)) top.push(entry.name);
        assert.deepEqual(top.filter((name) => ABSENT.includes(name)), []);
      });

      await t.step("inspect reads /proc and cgroupfs, without a network", async () => {
        // --net: a namespace with no interface up, so any network use would fail the run.
        const out = await inRoot(dir, ["inspect", "--format", "json"], ["--net"]).output();
        assert.equal(out.code, 0, decoder.decode(out.stderr));
        const processes: { pid: number; memory_current: number }[] = JSON.parse(
          decoder.decode(out.stdout),
        );
        const self = processes.find((p) => p.pid === Deno.pid);
        assert.ok(self, `inspect did not list the test process ${Deno.pid}`);
        assert.ok(self.memory_current > 0, "no memory figure read from the bound cgroupfs");
      });

      await t.step("the monitor serves /readyz and exits 0 on SIGTERM within 1 s", async () => {
        const port = freePort();
        const child = inRoot(dir, [
          // Never true (the adjustment is at most 1000), and a dry run on top: no signal leaves.
          "--warning=oom_score_adj > 1000",
          "--critical=oom_score_adj > 1000",
          "--dry-run",
          "--loop-interval=100ms",
          `--metrics-address=127.0.0.1:${port}`,
        ], []).spawn();
        let log = "";
        const started = Promise.withResolvers<"started">();
        const logRead = (async () => {
          for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) {
            log += chunk;
            if (log.includes("oomhero started")) started.resolve("started");
          }
        })();
        const stdoutRead = child.stdout.cancel();
        try {
          const first = await within(
            20_000,
            "waiting for 'oomhero started'",
            Promise.race([started.promise, child.status.then(() => "exited")]),
          ).catch((e) => `${e.message}`);
          if (first === "exited") await logRead;
          assert.equal(first, "started", `oomhero did not start; log:\n${log}`);
          let status = 0;
          const deadline = Date.now() + 10_000;
          while (status !== 200 && Date.now() < deadline) {
            try {
              const response = await fetch(`http://127.0.0.1:${port}/readyz`);
              await response.body?.cancel();
              status = response.status;
            } catch {
              // Not listening yet.
            }
            if (status !== 200) await delay(100);
          }
          assert.equal(status, 200, `/readyz never answered 200; log:\n${log}`);
          child.kill("SIGTERM");
          const exit = await within(1_000, "exit after SIGTERM", child.status);
          assert.equal(exit.code, 0, `exit code after SIGTERM; log:\n${log}`);
        } finally {
          try {
            child.kill("SIGKILL");
          } catch {
            // Already exited.
          }
          await child.status;
          await logRead;
          await stdoutRead;
        }
      });

      await t.step("the bind mounts did not leak into the host's mount table", async () => {
        assert.ok(!(await Deno.readTextFile("/proc/self/mountinfo")).includes(dir));
      });
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "compile: scripts/compile builds a working binary, or says in one line why it cannot",
  ignore: Deno.build.os !== "linux",
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "oomhero-compile-" });
    try {
      const binary = `${dir}/oomhero`;
      const out = await new Deno.Command(`${ROOT}scripts/compile`, {
        args: ["--output", binary],
        stdin: "null",
        env: { NO_COLOR: "1" },
      }).output();
      // Deno's own progress lines ("Check ...", "Compile ...") are not oomhero's to word.
      const said = decoder.decode(out.stderr).split("\n")
        .filter((line) => line !== "" && !/^(Check|Compile|Download) /.test(line));
      if (out.code !== 0) {
        assert.equal(said.length, 1, `expected one line, got:\n${said.join("\n")}`);
        assert.match(
          said[0],
          /^oomhero: deno compile could not fetch the Deno runtime \(denort\) [\d.]+ for [\w-]+: .*DENORT_BIN/,
        );
        return;
      }
      const version = await run(binary, ["--version"]);
      assert.equal(version.trim(), `oomhero ${denoJson.version} (deno ${Deno.version.deno})`);
      const inspected = JSON.parse(
        await run(binary, ["inspect", "--format", "json", "--pid", String(Deno.pid)]),
      );
      assert.equal(inspected[0].pid, Deno.pid);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
