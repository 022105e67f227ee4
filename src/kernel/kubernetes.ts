/**
 * The Kubernetes pod and container a cgroup path belongs to, for the DaemonSet's host view: the
 * kubelet names pod cgroups `pod<uid>` (cgroupfs driver) or `kubepods-…-pod<uid>.slice` (systemd
 * driver, with `_` for `-`), and the runtime names the container's cgroup after its id.
 * @module
 */

/** A pod's uid and a container's id. */
export interface KubernetesIds {
  /** The pod's metadata.uid, dashed as the API shows it. */
  podUid: string;
  /** The container's id as the runtime reports it (64 hex digits). */
  containerId: string;
}

const POD =
  /(?:^|[/-])pod([0-9a-f]{8}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{12})(?:\.slice)?$/;
const CONTAINER = /^(?:(?:cri-containerd|docker|crio|cri-o)-)?([0-9a-f]{64})(?:\.scope)?$/;

/**
 * The pod uid and container id in a cgroup path such as
 * `/kubepods/burstable/pod<uid>/<id>` or
 * `/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod<uid>.slice/cri-containerd-<id>.scope`;
 * undefined for any path that is not a Kubernetes container's.
 */
export function parseKubernetesIds(cgroupPath: string): KubernetesIds | undefined {
  const parts = cgroupPath.split("/").filter((p) => p !== "");
  if (!parts.some((p) => p.startsWith("kubepods"))) return undefined;
  for (let i = 0; i < parts.length - 1; i++) {
    const pod = POD.exec(parts[i]);
    const container = pod && CONTAINER.exec(parts[i + 1]);
    if (pod && container) {
      return { podUid: pod[1].replaceAll("_", "-"), containerId: container[1] };
    }
  }
  return undefined;
}
