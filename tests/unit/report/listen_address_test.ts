import assert from "node:assert/strict";
import { type ListenAddress, parseMetricsAddress } from "../../../src/report/listen_address.ts";
import { UsageError } from "../../../src/base/usage_error.ts";

Deno.test("parseMetricsAddress: good addresses", () => {
  const cases: [string, ListenAddress | undefined][] = [
    ["", undefined],
    [":9000", { hostname: "0.0.0.0", port: 9000 }],
    [":1", { hostname: "0.0.0.0", port: 1 }],
    [":65535", { hostname: "0.0.0.0", port: 65535 }],
    ["127.0.0.1:9100", { hostname: "127.0.0.1", port: 9100 }],
    ["0.0.0.0:9000", { hostname: "0.0.0.0", port: 9000 }],
    ["10.244.1.17:09000", { hostname: "10.244.1.17", port: 9000 }],
    ["[::1]:9100", { hostname: "::1", port: 9100 }],
    ["[::]:9000", { hostname: "::", port: 9000 }],
    ["[fe80::1:2]:80", { hostname: "fe80::1:2", port: 80 }],
    ["[::ffff:10.0.0.1]:9000", { hostname: "::ffff:10.0.0.1", port: 9000 }],
    ["localhost:9000", { hostname: "localhost", port: 9000 }],
    ["metrics.example.com:8080", { hostname: "metrics.example.com", port: 8080 }],
    ["my-pod-0.svc:9000", { hostname: "my-pod-0.svc", port: 9000 }],
    ["LOCALHOST:9000", { hostname: "LOCALHOST", port: 9000 }],
  ];
  for (const [text, expected] of cases) {
    assert.deepEqual(parseMetricsAddress(text), expected, text);
  }
});

Deno.test("parseMetricsAddress: bad addresses are UsageErrors saying what is wrong", () => {
  const cases: [string, string][] = [
    ["9000", `"9000": no ":" before the port; did you mean ":9000"?`],
    ["localhost", "use [host]:port"],
    [":0", "the port must be a number from 1 to 65535"],
    [":65536", "the port must be a number from 1 to 65535"],
    [":123456", "the port must be a number from 1 to 65535"],
    [":", "the port must be a number from 1 to 65535"],
    ["localhost:", "the port must be a number from 1 to 65535"],
    [":http", "the port must be a number from 1 to 65535"],
    [":-1", "the port must be a number from 1 to 65535"],
    [":+80", "the port must be a number from 1 to 65535"],
    [": 80", "the port must be a number from 1 to 65535"],
    [":9000 ", "the port must be a number from 1 to 65535"],
    ["::1:9000", "an IPv6 address needs brackets"],
    ["[::1]", "no port after the IPv6 address"],
    ["[::1]9000", "no port after the IPv6 address"],
    ["[::1:9000", 'no "]" closes the IPv6 address'],
    ["[zz::1]:80", '"zz::1" is not an IPv6 address'],
    ["[fe80::1%eth0]:80", '"fe80::1%eth0" is not an IPv6 address'],
    ["[127.0.0.1]:80", '"127.0.0.1" is not an IPv6 address'],
    ["[]:80", '"" is not an IPv6 address'],
    ["http://localhost:9000", "without scheme or path"],
    ["localhost:9000/metrics", "without scheme or path"],
    ["300.1.1.1:80", '"300.1.1.1" is not a host name or IP address'],
    ["1.2.3:80", '"1.2.3" is not a host name or IP address'],
    ["01.2.3.4:80", '"01.2.3.4" is not a host name or IP address'],
    ["-host:80", '"-host" is not a host name or IP address'],
    ["host_name:80", '"host_name" is not a host name or IP address'],
    ["a b:80", '"a b" is not a host name or IP address'],
    [" :80", '" " is not a host name or IP address'],
    ["host..example:80", '"host..example" is not a host name or IP address'],
    [`${"a".repeat(64)}.example:80`, "is not a host name or IP address"],
  ];
  for (const [text, problem] of cases) {
    assert.throws(() => parseMetricsAddress(text), (error: unknown) => {
      assert.ok(error instanceof UsageError, text);
      assert.equal(error.input, "--metrics-address");
      assert.ok(error.problem.startsWith(`"${text}": `), `${text}: ${error.problem}`);
      assert.ok(error.problem.includes(problem), `${text}: ${error.problem}`);
      return true;
    });
  }
});
