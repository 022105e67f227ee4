import assert from "node:assert/strict";
import {
  compactCmdline,
  SHOWN_FIRST_ARG_MAX,
  SHOWN_TAIL_MAX,
  shownCmdline,
  shownFirstArg,
} from "../../../src/base/shown_cmdline.ts";

/** A command line as parseCmdline gives it: arguments joined by spaces, and the first. */
function line(...args: string[]) {
  return { cmdline: args.join(" "), firstArg: args[0] };
}

/** The 2 KB command line of the issue: a JSON blob of environment values as an argument. */
const SECRET = "hunter2-do-not-leak";
const ENV_BLOB = JSON.stringify(
  Object.fromEntries(
    Array.from({ length: 64 }, (_, i) => [`VAR_${i}`, i === 63 ? SECRET : "x".repeat(20)]),
  ),
);
const LEAKY = line("/usr/bin/python3", "worker.py", "--env", ENV_BLOB);

Deno.test("shownCmdline keeps a short command line whole", () => {
  assert.equal(shownCmdline(line("java", "-Xmx1g", "-jar", "app.jar")), "java -Xmx1g -jar app.jar");
  assert.equal(shownCmdline(line("sleep")), "sleep");
  assert.equal(shownCmdline(line("")), "");
});

Deno.test("shownCmdline bounds a 2 KB command line: first argument, then a bounded tail", () => {
  assert.ok(LEAKY.cmdline.length > 2000, String(LEAKY.cmdline.length));
  const shown = shownCmdline(LEAKY);
  assert.ok(!shown.includes(SECRET), shown);
  const program = "/usr/bin/python3";
  const tail = LEAKY.cmdline.slice(program.length, program.length + SHOWN_TAIL_MAX);
  assert.ok(tail.startsWith(" worker.py --env {"), tail);
  const left = LEAKY.cmdline.length - program.length - SHOWN_TAIL_MAX;
  assert.equal(shown, `${program}${tail}…(+${left} chars)`);
});

Deno.test("shownCmdline and shownFirstArg bound a first argument that holds everything", () => {
  // setproctitle: the title is one argument with spaces.
  const title = `postgres: app ${ENV_BLOB}`;
  const shown = shownFirstArg(line(title));
  assert.equal(shown, `${title.slice(0, SHOWN_FIRST_ARG_MAX)}…(+${title.length - 200} chars)`);
  assert.ok(!shown.includes(SECRET));
  assert.equal(shownCmdline(line(title)), shown);
  assert.equal(shownFirstArg(LEAKY), "/usr/bin/python3");
});

Deno.test("shownCmdline never cuts a character in two", () => {
  const shown = shownCmdline(line("a", "é".repeat(SHOWN_TAIL_MAX - 2) + "😀" + "z"));
  // The emoji would straddle the bound: it is left out whole, and so counted.
  assert.equal(shown, `a ${"é".repeat(SHOWN_TAIL_MAX - 2)}…(+3 chars)`);
  assert.ok(shown.isWellFormed());
});

Deno.test("compactCmdline shows what tells two processes of one interpreter apart", () => {
  const python = "/root/.pyenv/versions/3.11.7/bin/python";
  const a = compactCmdline(line(python, "-m", "celery", "worker", "-Q", "billing"), 40);
  const b = compactCmdline(line(python, "-m", "celery", "worker", "-Q", "emails"), 40);
  assert.equal(a, "python -m celery worker -Q billing");
  assert.equal(b, "python -m celery worker -Q emails");
  // Cut to the width, with a mark.
  const long = compactCmdline(LEAKY, 40);
  assert.equal(long.length, 40);
  assert.equal(long, `${"python3 worker.py --env " + ENV_BLOB.slice(0, 15)}…`);
  assert.equal(compactCmdline(line("nginx: worker process"), 40), "nginx: worker process");
  assert.equal(compactCmdline(line("/weird/"), 40), "/weird/");
});
