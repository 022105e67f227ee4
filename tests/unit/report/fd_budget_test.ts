import assert from "node:assert/strict";
import {
  connectionCap,
  keptFilesBudget,
  parseOpenFilesLimit,
  readOpenFilesLimit,
} from "../../../src/report/fd_budget.ts";
import { KEPT_FILES_CAP } from "../../../src/kernel/kept_files.ts";

const LIMITS = `Limit                     Soft Limit           Hard Limit           Units     
Max cpu time              unlimited            unlimited            seconds   
Max stack size            8388608              unlimited            bytes     
Max processes             96362                96362                processes 
Max open files            1024                 1048576              files     
Max locked memory         8388608              8388608              bytes     
`;

Deno.test("parseOpenFilesLimit: the soft limit, undefined when unlimited", () => {
  assert.equal(parseOpenFilesLimit(LIMITS), 1024);
  assert.equal(
    parseOpenFilesLimit(
      LIMITS.replace("1024                 1048576", "unlimited            unlimited"),
    ),
    undefined,
  );
});

Deno.test("parseOpenFilesLimit: a missing or garbled line is an error naming it", () => {
  assert.throws(() => parseOpenFilesLimit(""), /no "Max open files" line/);
  assert.throws(
    () => parseOpenFilesLimit(LIMITS.replace("1024      ", "-1        ")),
    /garbled "Max open files" line: "Max open files/,
  );
  assert.throws(
    () => parseOpenFilesLimit(LIMITS.replace("1024 ", "1e99 ")),
    /garbled/,
  );
});

Deno.test("connectionCap: 64, or a quarter of a lower limit, never 0", () => {
  assert.equal(connectionCap(undefined), 64);
  assert.equal(connectionCap(1_048_576), 64);
  assert.equal(connectionCap(256), 64);
  assert.equal(connectionCap(255), 63);
  assert.equal(connectionCap(100), 25);
  assert.equal(connectionCap(3), 1);
});

Deno.test("readOpenFilesLimit: this process's, as prlimit set it", async () => {
  const out = await new Deno.Command("prlimit", {
    args: [
      "--nofile=300:400",
      "--",
      Deno.execPath(),
      "eval",
      `import { readOpenFilesLimit } from "${new URL(
        "../../../src/report/fd_budget.ts",
        import.meta.url,
      )}";` +
      "console.log(readOpenFilesLimit());",
    ],
    stdin: "null",
  }).output();
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
  // `deno` raises its soft limit to the hard one at start (a compiled binary does not).
  assert.equal(new TextDecoder().decode(out.stdout).trim(), "400");
  assert.equal(
    readOpenFilesLimit(),
    parseOpenFilesLimit(Deno.readTextFileSync("/proc/self/limits")),
  );
});

Deno.test("keptFilesBudget: half the limit, at most the cap; with the connections, 3/4 at most", () => {
  assert.equal(keptFilesBudget(undefined), KEPT_FILES_CAP);
  assert.equal(keptFilesBudget(1_048_576), KEPT_FILES_CAP);
  assert.equal(keptFilesBudget(1024), 512);
  assert.equal(keptFilesBudget(1), 0);
  for (const limit of [4, 100, 1024, 5000]) {
    assert.ok(keptFilesBudget(limit) + connectionCap(limit) <= limit * 3 / 4, `${limit}`);
  }
});
