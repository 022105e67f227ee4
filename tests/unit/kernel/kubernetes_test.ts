import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { Collector } from "../../../src/collect/collector.ts";
import { inspect } from "../../../src/scan/inspect.ts";
import { parseKubernetesIds } from "../../../src/kernel/kubernetes.ts";
import { Logger } from "../../../src/base/log.ts";
import { Metrics } from "../../../src/report/metrics.ts";
import { copyFixture } from "../../support/fixture_paths.ts";

const UID = "1f3c9a2e-7b4d-4c1a-9e8f-0a1b2c3d4e5f";
const ID = "3b1e0c6a9f2d4e8b7a5c1d0e9f8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0a";

Deno.test("parseKubernetesIds reads both cgroup drivers and the usual runtimes", () => {
  const systemdUid = UID.replaceAll("-", "_");
  const cases: string[] = [
    `/kubepods/burstable/pod${UID}/${ID}`,
    `/kubepods/pod${UID}/${ID}`,
    `/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${systemdUid}.slice/cri-containerd-${ID}.scope`,
    `/kubepods.slice/kubepods-pod${systemdUid}.slice/docker-${ID}.scope`,
    `/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod${systemdUid}.slice/crio-${ID}.scope`,
  ];
  for (const path of cases) {
    assert.deepEqual(parseKubernetesIds(path), { podUid: UID, containerId: ID }, path);
  }
});

Deno.test("parseKubernetesIds leaves everything else alone", () => {
  const cases: string[] = [
    "/",
    "",
    "/user.slice/user-1000.slice/session-2.scope",
    `/system.slice/docker-${ID}.scope`, // a container, but not Kubernetes'
    `/../cri-containerd-${ID}.scope`, // a container's own view: no pod in sight
    `/kubepods/burstable/pod${UID}`, // the pod, not one of its containers
    `/kubepods/burstable/pod${UID}/not-a-container-id`,
    `/kubepods/burstable/podXYZ/${ID}`,
  ];
  for (const path of cases) assert.equal(parseKubernetesIds(path), undefined, path);
});

Deno.test("inspect and the metrics name the pod and container of a process seen from the host", async () => {
  const tree = copyFixture("v2-host");
  try {
    // Give the fixture's pod and container cgroups the names a kubelet and containerd use.
    const pod = `${tree.cgroupfs}/kubepods.slice/kubepods-pod${UID.replaceAll("-", "_")}.slice`;
    Deno.renameSync(`${tree.cgroupfs}/kubepods.slice/kubepods-pod1.slice`, pod);
    Deno.renameSync(`${pod}/cri-containerd-aaa.scope`, `${pod}/cri-containerd-${ID}.scope`);
    for (const entry of Deno.readDirSync(tree.procfs)) {
      const file = `${tree.procfs}/${entry.name}/cgroup`;
      if (!/^\d+$/.test(entry.name) || !existsSync(file)) continue;
      Deno.writeTextFileSync(
        file,
        Deno.readTextFileSync(file)
          .replace("kubepods-pod1.slice", `kubepods-pod${UID.replaceAll("-", "_")}.slice`)
          .replace("cri-containerd-aaa.scope", `cri-containerd-${ID}.scope`),
      );
    }
    const log = new Logger("error", "text", () => {});
    const json = JSON.parse(
      await inspect({ ...tree, format: "json", pids: [100], include: [], sampleMs: 0 }, log),
    );
    assert.equal(json.length, 1);
    assert.equal(json[0].pod_uid, UID);
    assert.equal(json[0].container_id, ID);
    const table = await inspect(
      { ...tree, format: "table", pids: [100], include: [], sampleMs: 0 },
      log,
    );
    assert.match(table, new RegExp(`kubernetes +pod ${UID}, container ${ID}`));

    const metrics = new Metrics({ version: "test" });
    const samples = new Collector({ ...tree, log, selfPid: 999 }).scan();
    metrics.observeScan(samples, 0.001);
    const body = (await metrics.render(null)).body;
    assert.match(
      body,
      new RegExp(
        `^memory_usage\\{pid="100",cmdline="[^"]*",pod_uid="${UID}",container_id="${ID}"\\} `,
        "m",
      ),
    );
    // A process outside Kubernetes keeps the original tool's two labels.
    const other = samples.find((s) => parseKubernetesIds(s.source.path) === undefined);
    assert.ok(other);
    assert.match(body, new RegExp(`^memory_usage\\{pid="${other.pid}",cmdline="[^"]*"\\} `, "m"));
  } finally {
    Deno.removeSync(tree.dir, { recursive: true });
  }
});
