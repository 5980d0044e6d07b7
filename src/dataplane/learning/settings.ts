// The configuration compiled for the engine: services with canonical VTEPs and MACs, parsed
// prefixes. Compiled whole before anything changes, so a bad entry leaves the engine as it was.

import { ipBytes, normalizeIp, normalizeMac } from "../../net/addr.js";
import { inPrefix, type Prefix, parsePrefix } from "../../net/prefix.js";
import { InvariantError } from "../../errors.js";
import type { LearnConfig, Service } from "./types.js";

export interface Settings {
  /** New Service objects (idx -1, nothing learned). */
  services: Service[];
  prefixes: Prefix[];
}

function canonicalIp(s: string): string {
  const ip = normalizeIp(s);
  if (ip === null) throw new InvariantError("ERR_LEARN_CONFIG", `"${s}" is not an IP address`);
  return ip;
}

export function compile(cfg: LearnConfig): Settings {
  const services: Service[] = [];
  for (const s of cfg.services) {
    const svc: Service = {
      name: s.name,
      evi: s.evi,
      vni: s.vni,
      staticVteps: new Set(),
      discovered: new Set(),
      staticMacs: new Map(),
      staticIps: new Set(),
      idx: -1,
      macs: new Map(),
      ips: new Map(),
    };
    for (const v of s.staticVteps) {
      const vtep = canonicalIp(v.address);
      svc.staticVteps.add(vtep);
      for (const m of v.macs) {
        const mac = normalizeMac(m.mac);
        if (mac === null) throw new InvariantError("ERR_LEARN_CONFIG", `"${m.mac}" is not a MAC address`);
        svc.staticMacs.set(mac, vtep);
        for (const ip of m.ips) svc.staticIps.add(`${mac}/${canonicalIp(ip)}`);
      }
    }
    services.push(svc);
  }
  const prefixes = cfg.allowedPrefixes.map((p) => {
    const r = parsePrefix(p);
    if (r === null) throw new InvariantError("ERR_LEARN_CONFIG", `allowed-vtep-prefixes: "${p}" is not a CIDR prefix`);
    return r;
  });
  return { services, prefixes };
}

/** Whether auto-discovery admits `vtep`. */
export function discoverable(cfg: LearnConfig, prefixes: Prefix[], vtep: string): boolean {
  if (!cfg.autoDiscover) return false;
  const b = ipBytes(vtep);
  return b !== null && prefixes.some((p) => inPrefix(p, b));
}

/** What identifies a service across configurations: a change of any of these replaces it. */
export function identity(s: Service): string {
  return `${s.vni}/${s.evi}/${s.name}`;
}
