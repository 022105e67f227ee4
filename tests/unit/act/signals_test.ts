import assert from "node:assert/strict";
import {
  defaultAction,
  needsHandler,
  parseSignal,
  signalHandling,
  signalNumber,
} from "../../../src/act/signals.ts";

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

Deno.test("defaultAction follows signal(7)", () => {
  const cases: [Deno.Signal, string][] = [
    ["SIGUSR1", "terminate"],
    ["SIGUSR2", "terminate"],
    ["SIGHUP", "terminate"],
    ["SIGQUIT", "terminate"],
    ["SIGPWR", "terminate"],
    ["SIGTSTP", "stop"],
    ["SIGTTIN", "stop"],
    ["SIGSTOP", "stop"],
    ["SIGCHLD", "ignore"],
    ["SIGWINCH", "ignore"],
    ["SIGURG", "ignore"],
    ["SIGCONT", "ignore"],
  ];
  for (const [signal, action] of cases) assert.equal(defaultAction(signal), action, signal);
});

Deno.test("needsHandler: signals that would end or freeze a process, but those meant to end one", () => {
  for (const signal of ["SIGUSR1", "SIGUSR2", "SIGHUP", "SIGALRM", "SIGTSTP"] as const) {
    assert.equal(needsHandler(signal), true, signal);
  }
  for (
    const signal of [
      "SIGTERM",
      "SIGINT",
      "SIGQUIT",
      "SIGKILL",
      "SIGSTOP",
      "SIGCHLD",
      "SIGWINCH",
    ] as const
  ) {
    assert.equal(needsHandler(signal), false, signal);
  }
});

Deno.test("signalHandling: a handler wins, then SIG_IGN, then a block", () => {
  const usr1 = 1n << 9n;
  const none = { blocked: 0n, ignored: 0n, caught: 0n };
  assert.equal(signalHandling(none, "SIGUSR1"), "not_handled");
  assert.equal(signalHandling({ ...none, caught: usr1 }, "SIGUSR1"), "caught");
  assert.equal(signalHandling({ ...none, caught: usr1 }, "SIGUSR2"), "not_handled");
  assert.equal(signalHandling({ ...none, ignored: usr1 }, "SIGUSR1"), "ignored");
  assert.equal(signalHandling({ ...none, blocked: usr1 }, "SIGUSR1"), "blocked");
  // Blocked with a handler: delivered to the handler once unblocked.
  assert.equal(signalHandling({ ...none, blocked: usr1, caught: usr1 }, "SIGUSR1"), "caught");
  assert.equal(signalHandling({ ...none, caught: 1n }, "SIGHUP"), "caught");
  assert.equal(signalHandling({ ...none, caught: 1n << 30n }, "SIGSYS"), "caught");
});
