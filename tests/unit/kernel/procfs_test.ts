import assert from "node:assert/strict";
import {
  parseAuxvPageSize,
  parseCmdline,
  parseOomScore,
  parseProcCgroup,
  parseSignalMasks,
  parseStatm,
  parseStatPpid,
  parseStatStartTime,
} from "../../../src/kernel/procfs.ts";
import { fixture } from "../../support/fixture_paths.ts";

/** A stat line of a real kernel, with `comm` swapped in. */
function stat(comm: string, startTime = 35235): string {
  return `4666 (${comm}) R 4620 4620 2196 0 -1 4194304 101 0 0 0 0 0 0 0 20 0 1 0 ${startTime} ` +
    "3133440 409 18446744073709551615 94524618035200 94524618055081 140725047320656 0 0 0 0 0 0 " +
    "0 0 0 17 0 0 0 0 0 0 94524618071088 94524618072704 94525202116608 140725047327457 " +
    "140725047327477 140725047327477 140725047328747 0\n";
}

Deno.test("parseStatStartTime reads field 22", () => {
  assert.equal(parseStatStartTime(stat("cat")), 35235);
  assert.equal(parseStatStartTime(stat("cat", 0)), 0);
});

Deno.test("parseStatStartTime counts fields from the last ')' of comm", () => {
  assert.equal(parseStatStartTime(stat("my app", 77)), 77);
  assert.equal(parseStatStartTime(stat("a) 1 2 3 (b", 78)), 78);
  assert.equal(parseStatStartTime(stat(")", 79)), 79);
  assert.equal(parseStatStartTime(stat("", 80)), 80);
});

Deno.test("parseStatPpid reads field 4, after a comm with spaces and ')'", () => {
  assert.equal(parseStatPpid(stat("cat")), 4620);
  assert.equal(parseStatPpid(stat("a) 1 2 3 (b")), 4620);
  assert.equal(parseStatPpid("1 (systemd) S 0 1 1 0 -1"), 0);
  assert.throws(() => parseStatPpid("1 (x) S"), /field 4 is ""/);
});

Deno.test("parseStatStartTime rejects truncated or garbled stat", () => {
  assert.throws(() => parseStatStartTime(""), /no '\)'/);
  assert.throws(() => parseStatStartTime("1 (init) S 0 1 1"), /field 22 is ""/);
  assert.throws(() => parseStatStartTime(stat("x", -1)), /field 22 is "-1"/);
});

Deno.test("parseCmdline joins NUL-separated arguments with spaces", () => {
  assert.deepEqual(parseCmdline("python3\0-c\0print(1)\0"), {
    cmdline: "python3 -c print(1)",
    firstArg: "python3",
  });
  assert.deepEqual(parseCmdline("/bin/sh\0"), { cmdline: "/bin/sh", firstArg: "/bin/sh" });
});

Deno.test("parseCmdline keeps empty arguments but drops trailing NUL padding", () => {
  assert.deepEqual(parseCmdline("a\0\0b\0"), { cmdline: "a  b", firstArg: "a" });
  assert.deepEqual(parseCmdline("nginx: worker process\0\0\0\0"), {
    cmdline: "nginx: worker process",
    firstArg: "nginx: worker process",
  });
  assert.deepEqual(parseCmdline("no-trailing-nul"), {
    cmdline: "no-trailing-nul",
    firstArg: "no-trailing-nul",
  });
});

Deno.test("parseCmdline of a kernel thread is empty", () => {
  assert.deepEqual(parseCmdline(""), { cmdline: "", firstArg: "" });
});

Deno.test("parseOomScore reads signed integers and rejects anything else", () => {
  assert.equal(parseOomScore("666\n"), 666);
  assert.equal(parseOomScore("-1000\n"), -1000);
  assert.equal(parseOomScore("0"), 0);
  for (const bad of ["", "\n", "abc", "1.5", "12 3"]) {
    assert.throws(() => parseOomScore(bad), /not an integer/, JSON.stringify(bad));
  }
});

Deno.test("parseProcCgroup reads the cgroup2 line", () => {
  assert.deepEqual(parseProcCgroup("0::/system.slice/foo.service\n"), {
    unified: "/system.slice/foo.service",
  });
  assert.deepEqual(parseProcCgroup("0::/../cri-containerd-abc.scope\n"), {
    unified: "/../cri-containerd-abc.scope",
  });
});

Deno.test("parseProcCgroup reads the v1 memory line among others", () => {
  const text = "12:pids:/a\n5:cpu,cpuacct:/y\n4:memory:/x\n1:name=systemd:/s\n0::/u\n";
  assert.deepEqual(parseProcCgroup(text), { memory: "/x", unified: "/u" });
  assert.deepEqual(parseProcCgroup("3:memory,hugetlb:/both\n"), { memory: "/both" });
  assert.deepEqual(parseProcCgroup("5:cpu,cpuacct:/y\n"), {});
});

Deno.test("parseProcCgroup keeps ':' inside paths", () => {
  assert.deepEqual(parseProcCgroup("4:memory:/a:b\n0::/c:d\n"), {
    memory: "/a:b",
    unified: "/c:d",
  });
});

Deno.test("parseProcCgroup rejects a line without fields", () => {
  assert.throws(() => parseProcCgroup("garbage\n"), /malformed line "garbage"/);
  assert.throws(() => parseProcCgroup("4:memory\n"), /malformed line/);
});

/** A `/proc/<pid>/status` of the v2-host fixture, captured from a real process. */
function status(pid: number): string {
  return Deno.readTextFileSync(`${fixture("v2-host").procfs}/${pid}/status`);
}

Deno.test("parseSignalMasks reads SigBlk, SigIgn and SigCgt of a real status file", () => {
  // Python with a SIGUSR1 handler (and its own SIGINT one) and SIGUSR2 set to SIG_IGN.
  assert.deepEqual(parseSignalMasks(status(100)), {
    blocked: 0n,
    ignored: (1n << 11n) | (1n << 12n) | (1n << 24n),
    caught: (1n << 1n) | (1n << 9n),
  });
  // sleep started in the background by a shell: SIGINT and SIGQUIT ignored, nothing caught.
  assert.deepEqual(parseSignalMasks(status(101)), { blocked: 0n, ignored: 6n, caught: 0n });
});

Deno.test("parseSignalMasks takes 64-bit masks and rejects missing or garbled ones", () => {
  const masks = "SigBlk:\tffffffffffffffff\nSigIgn:\t0\nSigCgt:\t8000000000000000\n";
  assert.deepEqual(parseSignalMasks(masks), {
    blocked: (1n << 64n) - 1n,
    ignored: 0n,
    caught: 1n << 63n,
  });
  assert.throws(() => parseSignalMasks("SigBlk:\t0\nSigIgn:\t0\n"), /no SigCgt line/);
  assert.throws(() => parseSignalMasks(""), /no SigBlk line/);
  assert.throws(
    () => parseSignalMasks("SigBlk:\t0\nSigIgn:\tzz\nSigCgt:\t0\n"),
    /SigIgn is "zz", not a mask/,
  );
  assert.throws(
    () => parseSignalMasks("SigBlk:\t0\nSigIgn:\t10000000000000000\nSigCgt:\t0\n"),
    /SigIgn is "10000000000000000", not a mask/,
  );
});

Deno.test("parseStatm: the virtual size and resident set, in pages", () => {
  assert.deepEqual(parseStatm("95291 17452 10470 21847 0 10093 0\n"), {
    size: 95291,
    resident: 17452,
  });
  for (const bad of ["", "12", "a b c", "-1 2 3"]) {
    assert.throws(() => parseStatm(bad), /not page counts/, bad);
  }
});

Deno.test("parseAuxvPageSize: AT_PAGESZ of the auxiliary vector", () => {
  const vector = (pairs: [number, number][]) => {
    const bytes = new Uint8Array(pairs.length * 16);
    const view = new DataView(bytes.buffer);
    pairs.forEach(([key, value], i) => {
      view.setBigUint64(i * 16, BigInt(key), true);
      view.setBigUint64(i * 16 + 8, BigInt(value), true);
    });
    return bytes;
  };
  assert.equal(parseAuxvPageSize(vector([[33, 123], [16, 0xbfebfbff], [6, 16384], [0, 0]])), 16384);
  // Our own: the page size the kernel maps with, a power of two.
  const own = parseAuxvPageSize(Deno.readFileSync("/proc/self/auxv"));
  assert.ok(own >= 4096 && (own & (own - 1)) === 0, String(own));
  // A key after the terminator is not read; a vector without one has no page size.
  assert.throws(() => parseAuxvPageSize(vector([[33, 1], [0, 0], [6, 4096]])), /AT_PAGESZ/);
  assert.throws(() => parseAuxvPageSize(new Uint8Array(0)), /AT_PAGESZ/);
});
