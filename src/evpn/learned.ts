// Routes of learned bindings (RFC 7432 §7.2): the learning engine keeps the bindings, this module
// turns them into type 2 routes and their attributes. One attribute object per (service, VTEP,
// sequence, sticky), so that the speaker packs learned routes of one VTEP into few UPDATEs.

import type { OutAttrs } from "../bgp/adj-rib-out.js";
import type { OwnedRoutes } from "../bgp/io/speaker.js";
import { type EvpnRoute, macIpRoute, macMobility } from "../codec/index.js";
import type { ServiceSettings } from "../config/model.js";
import type { LearnAction, Learner } from "../dataplane/learning/learner.js";
import { macRouteAttributes, staticVtepRd } from "./plan.js";

/** What names one learned route: the binding's VTEP, service and MAC, and the IP (null: the MAC route). */
export interface LearnedKey {
  vtep: string;
  evi: number;
  vni: number;
  mac: string;
  ip: string | null;
}

/**
 * The type 2 route of a learned binding: RD, label and route targets as for the VTEP's IMET
 * route; the MAC route when `ip` is null, else the MAC/IP route.
 */
export function learnedRoute(k: LearnedKey, localAs: number): EvpnRoute {
  const rd = staticVtepRd(k.vtep, k.evi, localAs);
  return macIpRoute({ rd, mac: k.mac, ...(k.ip !== null ? { ip: k.ip } : {}), label1: k.vni });
}

export class LearnedAttrs {
  private readonly byKey = new Map<string, OutAttrs>();

  constructor(
    private readonly localAs: number,
    private services: readonly ServiceSettings[],
  ) {}

  /**
   * Attributes of a learned route (RFC 7432 §15): the next hop is the VTEP the MAC was learned
   * at; MAC mobility is left out at sequence 0 so that the first announcement is a plain one;
   * the proxy marker as on every proxied route. Undefined for a service no longer configured.
   */
  get(service: string, vtep: string, seq: number, sticky: boolean): OutAttrs | undefined {
    const key = `${service}|${vtep}|${seq}|${sticky ? 1 : 0}`;
    let attrs = this.byKey.get(key);
    if (attrs) return attrs;
    const s = this.services.find((x) => x.name === service);
    if (!s) return undefined;
    const mobility = seq > 0 || sticky ? macMobility(seq, sticky) : null;
    const attributes = macRouteAttributes(this.localAs, s.routeTargets, mobility);
    this.byKey.set(key, (attrs = { nextHop: vtep, attributes }));
    return attrs;
  }

  /** A new service list; attribute objects of `changed` services are built anew. */
  update(services: readonly ServiceSettings[], changed: ReadonlySet<string>): void {
    this.services = services;
    if (changed.size === 0) return;
    for (const key of this.byKey.keys()) if (changed.has(key.slice(0, key.indexOf("|")))) this.byKey.delete(key);
  }
}

/** Visits the routes the engine announces now, a batch of `batch` MACs at a time. */
export function forEachLearned(
  learner: Learner,
  visit: (a: LearnAction & { type: "announce" }) => void,
  batch = 4096,
): void {
  const next = learner.cursor();
  const actions: LearnAction[] = [];
  for (let more = true; more; actions.length = 0) {
    more = next(batch, actions);
    for (const a of actions) if (a.type === "announce") visit(a);
  }
}

/**
 * The learning engine's routes as the speaker's owned table: the engine is their only copy,
 * walked when a session needs the whole table (RFC 4271 §3.2 leaves the Adj-RIB-Out's form open).
 */
export function ownedTable(learner: Learner, attrs: LearnedAttrs, localAs: number): OwnedRoutes {
  return {
    cursor: () => {
      const next = learner.cursor();
      const actions: LearnAction[] = [];
      return (max, put) => {
        const more = next(max, actions);
        for (const a of actions)
          if (a.type === "announce") {
            const at = attrs.get(a.service, a.vtep, a.seq, a.sticky);
            if (at) put(learnedRoute(a, localAs), at);
          }
        actions.length = 0;
        return more;
      };
    },
  };
}
