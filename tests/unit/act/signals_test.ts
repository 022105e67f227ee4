import assert from "node:assert/strict";
import { parseSignal, signalNumber } from "../../../src/act/signals.ts";

Deno.test("parseSignal accepts names with or without SIG, any case, and numbers", () => {
  const cases: [string, Deno.Signal][] = [
    ["SIGUSR1", "SIGUSR1"],
    ["USR1", "SIGUSR1"],
    ["usr1", "SIGUSR1"],
    ["sigusr2", "SIGUSR2"],
    ["10", "SIGUSR1"],
    ["12", "SIGUSR2"],
    ["1", "SIGHUP"],
    ["15", "SIGTERM"],
    ["9", "SIGKILL"],
    ["31", "SIGSYS"],
    ["POLL", "SIGIO"],
  ];
  for (const [text, signal] of cases) assert.equal(parseSignal(text), signal, text);
});

Deno.test("parseSignal numbers agree with the kernel's numbering", () => {
  for (let n = 1; n <= 31; n++) assert.equal(signalNumber(parseSignal(String(n))), n);
});

Deno.test("parseSignal rejects unknown names and numbers, naming valid ones", () => {
  for (const text of ["", "0", "32", "64", "SIGFOO", "USR3", "-1", "1.5"]) {
    assert.throws(() => parseSignal(text), /SIGUSR1, SIGUSR2/, text);
  }
});
