// What the learning engine asks of the fabric (FabricView), answered from the BGP RIB and the
// EVPN VTEPs seen there.

import type { Path } from "../bgp/rib.js";
import type { FabricView } from "../dataplane/learning/learner.js";
import { compareAddresses } from "../net/addr.js";

/** What the controller reads of the RIB: the fabric's type 2 paths per MAC. */
export interface RibView {
  byMac(mac: string): Iterable<string>;
  paths(key: string): Iterable<Path>;
}

export interface RemoteMac {
  vtep: string;
  seq: number;
  sticky: boolean;
}

/**
 * The best remote type 2 route for a MAC in a VNI (RFC 7432 §15.1): the highest MAC mobility
 * sequence wins (an absent community counts as 0); at equal sequence the lower VTEP address,
 * compared as a number (192.0.2.9 before 192.0.2.10).
 */
export function bestRemoteMac(rib: RibView, vni: number, mac: string): RemoteMac | undefined {
  let best: RemoteMac | undefined;
  for (const key of rib.byMac(mac))
    for (const p of rib.paths(key)) {
      if (p.source === "local" || p.route.routeType !== 2 || p.route.label1 !== vni) continue;
      let seq = 0;
      let sticky = false;
      for (const c of p.attrs.extCommunities)
        if (c.kind === "mac-mobility") {
          seq = c.sequence;
          sticky = (c.flags & 1) !== 0;
        }
      const vtep = p.attrs.nextHop;
      if (!best || seq > best.seq || (seq === best.seq && compareAddresses(vtep, best.vtep) < 0))
        best = { vtep, seq, sticky };
    }
  return best;
}

/**
 * A FabricView over the RIB. `isEvpnVtep` is asked for every datagram: it reads a per-VNI cache
 * that `invalidate()` drops when the EVPN VTEPs or the services change.
 */
export class RibFabric implements FabricView {
  private byVni: Map<number, ReadonlySet<string>> | null = null;

  constructor(
    private readonly rib: () => RibView,
    private readonly evpnVtepsByVni: () => Map<number, ReadonlySet<string>>,
  ) {}

  invalidate(): void {
    this.byVni = null;
  }

  isEvpnVtep(vni: number, vtep: string): boolean {
    const m = (this.byVni ??= this.evpnVtepsByVni());
    return m.get(vni)?.has(vtep) === true;
  }

  remoteMac(vni: number, mac: string): RemoteMac | undefined {
    return bestRemoteMac(this.rib(), vni, mac);
  }
}
