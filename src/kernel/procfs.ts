/**
 * Parsers for the per-process files of procfs: `/proc/<pid>/stat`, `cmdline`, `oom_score`,
 * `oom_score_adj`, `cgroup`, the signal masks of `status`, `statm` and `auxv`'s page size. Each
 * takes the file's text and returns a typed value; reading is the collector's job.
 * @module
 */
import { finiteNumber, quote } from "./kernel_text.ts";

/** The start time field of `/proc/<pid>/stat`, counted from 1 as in proc(5). */
const START_TIME_FIELD = 22;
/** The first field after `comm`: `state`. */
const STATE_FIELD = 3;

/** The parent pid field of `/proc/<pid>/stat`. */
const PPID_FIELD = 4;

/**
 * Returns numeric field `field` (counted from 1 as in proc(5)) of `/proc/<pid>/stat`.
 * The command name in field 2 may hold spaces and `)`, so fields are counted from the last `)`.
 */
function statField(stat: string, field: number): number {
  const commEnd = stat.lastIndexOf(")");
  if (commEnd < 0) throw new Error("no ')' closing the command name");
  // Walks to the one field rather than splitting all fifty: this runs per process and scan.
  let start = commEnd + 1;
  while (stat[start] === " ") start++;
  for (let f = STATE_FIELD; f < field && start > 0; f++) start = stat.indexOf(" ", start) + 1;
  const end = stat.indexOf(" ", start);
  const value = start > 0 ? stat.slice(start, end < 0 ? undefined : end).trimEnd() : undefined;
  if (value === undefined || !/^\d+$/.test(value)) {
    throw new Error(`field ${field} is ${quote(value ?? "")}, not a number`);
  }
  return finiteNumber(value);
}

/** Returns the process start time, in clock ticks since boot: field 22 of `/proc/<pid>/stat`. */
export function parseStatStartTime(stat: string): number {
  return statField(stat, START_TIME_FIELD);
}

/** Returns the parent's pid: field 4 of `/proc/<pid>/stat` (0 for pid 1 and kernel threads). */
export function parseStatPpid(stat: string): number {
  return statField(stat, PPID_FIELD);
}

/** A command line as the collector reports it. */
export interface Cmdline {
  /** The arguments joined by spaces; empty for kernel threads and zombies. */
  cmdline: string;
  /** The first argument, usually the program. */
  firstArg: string;
}

/**
 * Parses `/proc/<pid>/cmdline`: NUL-terminated arguments. Trailing NULs are dropped, as programs
 * that rewrite their title (setproctitle) pad the buffer with them.
 */
export function parseCmdline(raw: string): Cmdline {
  const args = raw.replace(/\0+$/, "").split("\0");
  return { cmdline: args.join(" "), firstArg: args[0] };
}

/** Parses `/proc/<pid>/oom_score` or `oom_score_adj`: one signed integer. */
export function parseOomScore(text: string): number {
  const value = text.trim();
  if (!/^-?\d+$/.test(value)) throw new Error(`not an integer: ${quote(value)}`);
  return finiteNumber(value);
}

/** The cgroup paths of a process that matter to memory, as its `/proc/<pid>/cgroup` says. */
export interface ProcCgroup {
  /** The cgroup2 path (the `0::<path>` line), if any. */
  unified?: string;
  /** The cgroup v1 path of the `memory` controller, if any. */
  memory?: string;
}

/**
 * Parses `/proc/<pid>/cgroup`: lines of `hierarchy-id:controllers:path`. The path is relative to
 * the reader's cgroup namespace, so it starts with `/..` when the process is outside of ours.
 */
export function parseProcCgroup(text: string): ProcCgroup {
  const out: ProcCgroup = {};
  for (const line of text.split("\n")) {
    if (line === "") continue;
    // The path may itself hold ':', so only the first two separate fields.
    const first = line.indexOf(":");
    const second = line.indexOf(":", first + 1);
    if (first < 0 || second < 0) throw new Error(`malformed line ${quote(line)}`);
    const id = line.slice(0, first);
    const controllers = line.slice(first + 1, second);
    const path = line.slice(second + 1);
    if (id === "0" && controllers === "") out.unified = path;
    else if (controllers.split(",").includes("memory")) out.memory = path;
  }
  return out;
}

/** The signal masks of `/proc/<pid>/status`: bit n − 1 set for signal n. */
export interface SignalMasks {
  /** `SigBlk`: blocked by the main thread (the one `/proc/<pid>/status` describes). */
  blocked: bigint;
  /** `SigIgn`: set to SIG_IGN, process-wide. */
  ignored: bigint;
  /** `SigCgt`: caught by a handler, process-wide. */
  caught: bigint;
}

/** The `status` keys of {@link SignalMasks}. */
const MASK_KEYS = { SigBlk: "blocked", SigIgn: "ignored", SigCgt: "caught" } as const;

/**
 * Parses the signal masks of `/proc/<pid>/status`, lines of `Key:\tvalue` among which (proc(5)):
 *
 * ```
 * SigQ:	1/96362
 * SigPnd:	0000000000000000
 * ShdPnd:	0000000000000000
 * SigBlk:	0000000000000000
 * SigIgn:	0000000001001800
 * SigCgt:	0000000000000202
 * ```
 *
 * each a mask in hexadecimal, 16 digits for 64 signals. Here the process ignores SIGUSR2 (bit 11),
 * SIGPIPE and SIGXFSZ and catches SIGINT (bit 1) and SIGUSR1 (bit 9): a Python program with a
 * SIGUSR1 handler.
 * @throws {Error} naming the key that is missing or not a mask.
 */
export function parseSignalMasks(status: string): SignalMasks {
  const found: Partial<Record<keyof typeof MASK_KEYS, bigint>> = {};
  for (const line of status.split("\n")) {
    const colon = line.indexOf(":");
    const key = line.slice(0, colon);
    if (!(key in MASK_KEYS)) continue;
    const value = line.slice(colon + 1).trim();
    if (!/^[0-9a-f]{1,16}$/i.test(value)) throw new Error(`${key} is ${quote(value)}, not a mask`);
    found[key as keyof typeof MASK_KEYS] = BigInt(`0x${value}`);
  }
  const missing = Object.keys(MASK_KEYS).find((k) =>
    found[k as keyof typeof MASK_KEYS] === undefined
  );
  if (missing !== undefined) throw new Error(`no ${missing} line`);
  return { blocked: found.SigBlk!, ignored: found.SigIgn!, caught: found.SigCgt! };
}

/** The sizes of `/proc/<pid>/statm`, in pages. */
export interface Statm {
  /** The virtual size (`VmSize` of `status`). */
  size: number;
  /** The resident set (`VmRSS` of `status`): anonymous, file-backed and shared memory pages. */
  resident: number;
}

/**
 * Parses `/proc/<pid>/statm`: seven counts of pages on one line (proc(5)), of which the first
 * two are the virtual size and the resident set:
 *
 * ```
 * 95291 17452 10470 21847 0 10093 0
 * ```
 *
 * The same figures as `status`'s VmSize and VmRSS, which the kernel formats at several times the
 * cost, among fifty other lines.
 */
export function parseStatm(text: string): Statm {
  const fields = text.trim().split(" ");
  if (fields.length < 2 || !fields.slice(0, 2).every((f) => /^\d+$/.test(f))) {
    throw new Error(`not page counts: ${quote(text.trim())}`);
  }
  return { size: finiteNumber(fields[0]), resident: finiteNumber(fields[1]) };
}

/** The auxiliary vector's key of the page size (`AT_PAGESZ`, <elf.h>). */
const AT_PAGESZ = 6n;

/**
 * Returns the page size from `/proc/<pid>/auxv`: the auxiliary vector the kernel gave the
 * program, pairs of native words (key, value) ending with key 0. Read as 64-bit little-endian,
 * the words of every platform Deno runs on under Linux (x86_64, aarch64): e.g. key 6
 * (`AT_PAGESZ`) with value 4096.
 * @throws {Error} when the vector has no page size.
 */
export function parseAuxvPageSize(auxv: Uint8Array): number {
  const view = new DataView(auxv.buffer, auxv.byteOffset, auxv.byteLength);
  for (let at = 0; at + 16 <= auxv.byteLength; at += 16) {
    const key = view.getBigUint64(at, true);
    if (key === 0n) break;
    if (key === AT_PAGESZ) return Number(view.getBigUint64(at + 8, true));
  }
  throw new Error("no AT_PAGESZ entry");
}
