import assert from "node:assert/strict";
import { openFdCount } from "../../../src/report/open_fds.ts";

/** The descriptors the way prom-client counts them: a listing, less its own descriptor. */
function listed(): number {
  return [...Deno.readDirSync("/proc/self/fd")].length - 1;
}

Deno.test("openFdCount counts our open descriptors, and follows one opened and closed", () => {
  const before = openFdCount();
  assert.equal(before, listed());
  const file = Deno.openSync("/proc/self/stat");
  try {
    assert.equal(openFdCount(), before + 1);
    assert.equal(openFdCount(), listed());
  } finally {
    file.close();
  }
  assert.equal(openFdCount(), before);
});
