// Shared fixtures of the ARP/ND proxy table tests: documentation addresses, locally
// administered MACs, and a table with one service (VNI 10).
import { ArpNdProxy } from "../../src/dataplane/arpnd/proxy.js";
import type { ProxyServiceSettings, ProxySettings } from "../../src/dataplane/arpnd/settings.js";

export const A = "192.0.2.1"; // static VTEP
export const B = "192.0.2.2"; // static VTEP
export const C = "192.0.2.3"; // static VTEP, where requests come from
export const E = "198.51.100.20"; // EVPN VTEP
export const E2 = "198.51.100.21"; // EVPN VTEP
export const IP1 = "203.0.113.1";
export const IP2 = "203.0.113.2";
export const IP6 = "2001:db8:100::1";
export const M1 = "02:00:00:00:01:01";
export const M2 = "02:00:00:00:01:02";
export const M3 = "02:00:00:00:01:03";
export const REQ = "02:00:00:00:02:01"; // a requester
export const S = 1000;

/** Settings with service VNI 10 ("vni10") and `svc`'s fields, then `over`'s global ones. */
export function settings(svc: Partial<ProxyServiceSettings> = {}, over: Partial<ProxySettings> = {}): ProxySettings {
  return { services: [{ vni: 10, name: "vni10", ...svc }], ...over };
}

export function proxy(svc: Partial<ProxyServiceSettings> = {}, over: Partial<ProxySettings> = {}): ArpNdProxy {
  return new ArpNdProxy(settings(svc, over));
}
