/**
 * Single address-resolution requests from a lab namespace, with what answered them: ARP with
 * arping (Thomas Habets' arping 2.x, Debian package `arping`) and IPv6 neighbour solicitations
 * with ndisc6 (Debian package `ndisc6`).
 *
 * Found on this machine: arping 2.23 prints one line per reply, "42 bytes from <MAC> (<IP>):
 * index=0 time=…", and exits 1 when nothing answered; `-w` is the whole run's deadline in
 * seconds; `-U -S <ip> <ip>` sends a broadcast request "who-has <ip> tell <ip>" (target MAC
 * ff:ff:ff:ff:ff:ff). ndisc6 1.0.5 prints "Target link-layer address: <MAC>" per answer and exits
 * 2 after "Timed out.".
 */
import type { Lab } from "./lab.js";

export interface ArpingOptions {
  /** Interface (default eth0). */
  iface?: string;
  /** Requests to send (default 1). */
  count?: number;
  /** Deadline of the whole run in seconds (default count + 1). */
  deadlineS?: number;
}

export interface ArpAnswer {
  /** Sender MAC of the reply (lower case). */
  mac: string;
  /** Sender IP of the reply. */
  ip: string;
}

const MAC_RE = /([0-9a-f]{2}(?::[0-9a-f]{2}){5})/i;

/** Broadcast ARP request(s) for `ip` from `ns`; the replies received. */
export async function arping(lab: Lab, ns: string, ip: string, opts: ArpingOptions = {}): Promise<ArpAnswer[]> {
  const count = opts.count ?? 1;
  const args = ["-i", opts.iface ?? "eth0", "-c", String(count), "-w", String(opts.deadlineS ?? count + 1), ip];
  const r = await lab.exec(ns, "arping", args, { check: false });
  const out: ArpAnswer[] = [];
  for (const m of r.stdout.matchAll(/bytes from ([0-9a-f:]{17}) \(([\d.]+)\)/gi))
    out.push({ mac: m[1]!.toLowerCase(), ip: m[2]! });
  return out;
}

/**
 * A gratuitous ARP from `ns`: a broadcast ARP request with sender and target IP `ip` (arping -U
 * -S), with the interface's MAC as sender. The namespace need not own `ip`.
 */
export async function gratuitousArp(lab: Lab, ns: string, ip: string, iface = "eth0"): Promise<void> {
  await lab.exec(ns, "arping", ["-U", "-i", iface, "-S", ip, "-c", "1", "-w", "0", ip], { check: false });
}

/**
 * One neighbour solicitation for `ip` (to its solicited-node multicast group) from `ns`; the
 * target link-layer addresses of the advertisements received within `waitMs` (lower case).
 */
export async function ndisc(lab: Lab, ns: string, ip: string, iface = "eth0", waitMs = 1000): Promise<string[]> {
  const args = ["-n", "-m", "-r", "1", "-w", String(waitMs), ip, iface];
  const r = await lab.exec(ns, "ndisc6", args, { check: false });
  const out: string[] = [];
  for (const line of r.stdout.split("\n")) {
    if (!/Target link-layer address/i.test(line)) continue;
    const m = MAC_RE.exec(line);
    if (m) out.push(m[1]!.toLowerCase());
  }
  return out;
}
