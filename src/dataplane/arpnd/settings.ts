// The proxy table's settings (the lead maps the configuration onto them) and their compiled
// form: canonical addresses, defaults applied, milliseconds. Compiled whole before anything
// changes, so a bad entry leaves the table as it was.

import { normalizeIp, normalizeMac } from "../../net/addr.js";
import { InvariantError } from "../../errors.js";

/** RFC 9161 §3.7 duplicate IP detection. */
export interface DuplicateSettings {
  /** More MAC changes of one IP than this within `windowSeconds` make it a duplicate (RFC 9161 §3.7: N = 5). */
  maxMoves: number;
  /** RFC 9161 §3.7: M = 180 s. */
  windowSeconds: number;
  /** How long a duplicate IP is not answered before it is released (RFC 9161 §3.7: hold-down, 540 s). */
  holdSeconds: number;
  /** Least time between two confirmation requests to the former owner of one moving IP. */
  confirmSeconds: number;
}

export interface StaticEntry {
  ip: string;
  mac: string;
  /** The NA router flag for this address (RFC 4861 §4.4); default false. */
  router?: boolean;
}

export interface ProxyServiceSettings {
  vni: number;
  name: string;
  /** false: requests for unknown IPs are dropped (an all-static IXP); default true. */
  floodUnknown?: boolean;
  /** false: gratuitous ARP / unsolicited NA are learned but not replicated; default true. */
  floodGratuitous?: boolean;
  static?: StaticEntry[];
  /** Overrides of the global duplicate detection settings for this service. */
  duplicate?: Partial<DuplicateSettings>;
  /** Dynamic and EVPN entries at most (static ones are not counted); 0: no limit. */
  maxEntries?: number;
  /** Overrides of the global request rate and burst for this service. */
  requestRate?: number;
  requestBurst?: number;
}

export interface ProxySettings {
  services: ProxyServiceSettings[];
  duplicate?: Partial<DuplicateSettings>;
  /** A dynamic entry not seen for this long goes; refreshed at half of it (learning's mac-ageing-seconds). */
  ageingSeconds?: number;
  /** Flooded requests per second per source (token bucket refill); 0: no limit. */
  requestRate?: number;
  /** Flooded requests a source may send at once (token bucket capacity). */
  requestBurst?: number;
  /** Sources with a rate bucket at most; past it, new sources share one bucket. */
  maxSources?: number;
  /** Gratuitous ARP / unsolicited NA for new static and EVPN entries per second (and burst). */
  garpRate?: number;
  /** Default of `maxEntries` for services that do not set it. */
  maxEntries?: number;
  /** Least time between two throttled events of one key. */
  eventIntervalSeconds?: number;
}

export const DEFAULT_DUPLICATE: Readonly<DuplicateSettings> = Object.freeze({
  maxMoves: 5,
  windowSeconds: 180,
  holdSeconds: 540,
  confirmSeconds: 30,
});

/**
 * Defaults. The request bucket meters only requests the proxy floods (unknown or duplicate
 * targets): answers cost the fabric one unicast frame back to the requester and are not
 * metered. Rate 3/s is arpsponge's flood protection per source (AMS-IX); the burst of 100 lets a
 * router that boots and asks for all its neighbours at once have its requests for up to 100
 * unknown (down or new) neighbours flooded before the rate applies; after that, an ARP storm from
 * one member reaches the others at 3 requests/s. 65,536 sources bound the buckets' memory
 * (spoofed source MACs cannot grow it). 1,000 gratuitous frames/s: each is replicated to every
 * static VTEP of the service, so a full EVPN table arriving at once (a BGP session coming up)
 * is announced at a pace the sender sustains (100 static VTEPs → 100,000 frames/s).
 */
export const DEFAULTS = Object.freeze({
  ageingSeconds: 300,
  requestRate: 3,
  requestBurst: 100,
  maxSources: 65536,
  garpRate: 1000,
  maxEntries: 0,
  eventIntervalSeconds: 60,
});

export interface CompiledStatic {
  ip: string;
  mac: string;
  router: boolean;
}

export interface CompiledService {
  vni: number;
  name: string;
  floodUnknown: boolean;
  floodGratuitous: boolean;
  /** Canonical IP → entry. */
  statics: Map<string, CompiledStatic>;
  /** Static MAC → its entries (an address of each family, say). */
  byMac: Map<string, CompiledStatic[]>;
  maxMoves: number;
  windowMs: number;
  holdMs: number;
  confirmMs: number;
  maxEntries: number;
  requestRate: number;
  requestBurst: number;
}

export interface Compiled {
  services: CompiledService[];
  ageMs: number;
  requestRate: number;
  requestBurst: number;
  maxSources: number;
  garpRate: number;
  eventMs: number;
}

function bad(msg: string): never {
  throw new InvariantError("ERR_ARPND_CONFIG", msg);
}

function positive(name: string, v: number, min: number): number {
  if (!Number.isFinite(v) || v < min) bad(`${name}: ${v} is below ${min}`);
  return v;
}

export function compile(s: ProxySettings): Compiled {
  const vnis = new Set<number>();
  const services = s.services.map((svc): CompiledService => {
    if (!Number.isInteger(svc.vni) || svc.vni < 0 || svc.vni > 0xffffff) bad(`"${svc.vni}" is not a VNI`);
    if (vnis.has(svc.vni)) bad(`VNI ${svc.vni} appears twice`);
    vnis.add(svc.vni);
    const dup = { ...DEFAULT_DUPLICATE, ...s.duplicate, ...svc.duplicate };
    const statics = new Map<string, CompiledStatic>();
    for (const e of svc.static ?? []) {
      const ip = normalizeIp(e.ip);
      const mac = normalizeMac(e.mac);
      if (ip === null) bad(`${svc.name}: "${e.ip}" is not an IP address`);
      if (mac === null) bad(`${svc.name}: "${e.mac}" is not a MAC address`);
      if (statics.has(ip)) bad(`${svc.name}: static entry ${ip} appears twice`);
      statics.set(ip, { ip, mac, router: e.router ?? false });
    }
    const byMac = new Map<string, CompiledStatic[]>();
    for (const e of statics.values()) {
      const l = byMac.get(e.mac);
      if (l === undefined) byMac.set(e.mac, [e]);
      else l.push(e);
    }
    return {
      vni: svc.vni,
      name: svc.name,
      floodUnknown: svc.floodUnknown ?? true,
      floodGratuitous: svc.floodGratuitous ?? true,
      statics,
      byMac,
      maxMoves: positive("maxMoves", dup.maxMoves, 1),
      windowMs: positive("windowSeconds", dup.windowSeconds, 1) * 1000,
      holdMs: positive("holdSeconds", dup.holdSeconds, 1) * 1000,
      confirmMs: positive("confirmSeconds", dup.confirmSeconds, 0) * 1000,
      maxEntries: positive("maxEntries", svc.maxEntries ?? s.maxEntries ?? DEFAULTS.maxEntries, 0),
      requestRate: positive("requestRate", svc.requestRate ?? s.requestRate ?? DEFAULTS.requestRate, 0),
      requestBurst: positive("requestBurst", svc.requestBurst ?? s.requestBurst ?? DEFAULTS.requestBurst, 1),
    };
  });
  return {
    services,
    ageMs: positive("ageingSeconds", s.ageingSeconds ?? DEFAULTS.ageingSeconds, 1) * 1000,
    requestRate: positive("requestRate", s.requestRate ?? DEFAULTS.requestRate, 0),
    requestBurst: positive("requestBurst", s.requestBurst ?? DEFAULTS.requestBurst, 1),
    maxSources: positive("maxSources", s.maxSources ?? DEFAULTS.maxSources, 1),
    garpRate: positive("garpRate", s.garpRate ?? DEFAULTS.garpRate, 1),
    eventMs: positive("eventIntervalSeconds", s.eventIntervalSeconds ?? DEFAULTS.eventIntervalSeconds, 0) * 1000,
  };
}
