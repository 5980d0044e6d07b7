// frr.conf text for the roles labs use: a route reflector that accepts its clients through
// `bgp listen range`, and an EVPN VTEP with one iBGP neighbor. Timers are short (3/9 s, connect
// retry 2 s) so that sessions come up within seconds.

export interface FrrRouteReflectorConfig {
  hostname: string;
  as: number;
  routerId: string;
  /** Peers connecting from this range are accepted into a peer group of route reflector clients. */
  listenRange: string;
}

/** A route reflector for L2VPN EVPN; its clients need no configuration on its side. */
export function frrRouteReflectorConfig(c: FrrRouteReflectorConfig): string {
  return `frr defaults datacenter
hostname ${c.hostname}
router bgp ${c.as}
 bgp router-id ${c.routerId}
 no bgp default ipv4-unicast
 timers bgp 3 9
 neighbor fabric peer-group
 neighbor fabric remote-as ${c.as}
 bgp listen range ${c.listenRange} peer-group fabric
 address-family l2vpn evpn
  neighbor fabric activate
  neighbor fabric route-reflector-client
 exit-address-family
`;
}

export interface FrrEvpnVtepConfig {
  hostname: string;
  as: number;
  /** Router id, also the update source (the VTEP address). */
  routerId: string;
  /** The iBGP neighbor: a route reflector, or a speaker peering directly. */
  neighbor: string;
  gracefulRestart?: boolean;
  /** Top-level lines before `router bgp` (e.g. `vni 100`: the default VRF's L3 VNI, for zebra). */
  global?: string[];
  /** `network` statements of address-family ipv4 unicast, where the neighbor is then activated too. */
  ipv4Networks?: string[];
  /** `network` statements of address-family ipv6 unicast. */
  ipv6Networks?: string[];
  /** Lines after `advertise-all-vni` in address-family l2vpn evpn (indented there by two spaces). */
  evpn?: string[];
}

/** An EVPN VTEP (`advertise-all-vni`) with one iBGP neighbor. */
export function frrEvpnVtepConfig(c: FrrEvpnVtepConfig): string {
  const n = c.neighbor;
  const lines = ["frr defaults datacenter", `hostname ${c.hostname}`, ...(c.global ?? [])];
  lines.push(`router bgp ${c.as}`, ` bgp router-id ${c.routerId}`, " no bgp default ipv4-unicast", " timers bgp 3 9");
  if (c.gracefulRestart) lines.push(" bgp graceful-restart", " bgp graceful-restart preserve-fw-state");
  lines.push(` neighbor ${n} remote-as ${c.as}`, ` neighbor ${n} update-source ${c.routerId}`);
  lines.push(` neighbor ${n} timers connect 2`);
  if (c.ipv4Networks) {
    lines.push(" address-family ipv4 unicast", ...c.ipv4Networks.map((p) => `  network ${p}`));
    lines.push(`  neighbor ${n} activate`, " exit-address-family");
  }
  if (c.ipv6Networks) {
    lines.push(" address-family ipv6 unicast", ...c.ipv6Networks.map((p) => `  network ${p}`), " exit-address-family");
  }
  lines.push(" address-family l2vpn evpn", `  neighbor ${n} activate`, "  advertise-all-vni");
  lines.push(...(c.evpn ?? []).map((l) => `  ${l}`), " exit-address-family");
  return `${lines.join("\n")}\n`;
}
