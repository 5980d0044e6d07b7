// What changed between two validated configurations. Pure: the composition root applies the
// result (sessions to reset, learning sources to reopen); the EVPN controller diffs routes itself.

import { isDeepStrictEqual } from "node:util";
import type { NeighborSettings, ProxyConfig } from "./model.js";
import { senderModes } from "./replication.js";

export interface ConfigDiff {
  /** router-id, local-as, listen or graceful-restart changed: they concern every session. */
  global: boolean;
  neighbors: {
    added: NeighborSettings[];
    removed: NeighborSettings[];
    /** New settings of neighbours whose own settings changed: their session restarts. */
    changed: NeighborSettings[];
  };
  /** Names of services added, removed or changed. */
  services: { added: string[]; removed: string[]; changed: string[] };
  /** A learning setting changed. */
  learning: boolean;
  /**
   * Where frames come from or how copies leave changed (vxlan-listen, capture-interfaces,
   * any-frame, the senders replication needs): sources and senders reopen.
   */
  learningSources: boolean;
  /** A management setting changed (listeners take it at the next start; the token file is re-read). */
  management: boolean;
  /** state-directory or state-save-seconds changed. */
  state: boolean;
}

function byKey<T>(items: readonly T[], key: (t: T) => string): Map<string, T> {
  return new Map(items.map((t) => [key(t), t]));
}

/** Added, removed and changed items of two lists keyed by `key`. */
function diffList<T>(prev: readonly T[], next: readonly T[], key: (t: T) => string) {
  const a = byKey(prev, key);
  const b = byKey(next, key);
  return {
    added: next.filter((t) => !a.has(key(t))),
    removed: prev.filter((t) => !b.has(key(t))),
    changed: next.filter((t) => a.has(key(t)) && !isDeepStrictEqual(a.get(key(t)), t)),
  };
}

export function diffConfig(prev: ProxyConfig, next: ProxyConfig): ConfigDiff {
  const global = (c: ProxyConfig) => [c.routerId, c.localAs, c.listen, c.gracefulRestart];
  const services = diffList(prev.services, next.services, (s) => s.name);
  const source = (c: ProxyConfig) => [
    c.learning.vxlanListen,
    c.learning.captureInterfaces,
    c.learning.anyFrame,
    senderModes(c),
  ];
  return {
    global: !isDeepStrictEqual(global(prev), global(next)),
    neighbors: diffList(prev.neighbors, next.neighbors, (n) => n.address),
    services: {
      added: services.added.map((s) => s.name),
      removed: services.removed.map((s) => s.name),
      changed: services.changed.map((s) => s.name),
    },
    learning: !isDeepStrictEqual(prev.learning, next.learning),
    learningSources: !isDeepStrictEqual(source(prev), source(next)),
    management: !isDeepStrictEqual(prev.management, next.management),
    state: !isDeepStrictEqual(prev.state, next.state),
  };
}
