// What the table decides for a request or a gratuitous frame (a few frozen objects), and which
// decoded frames it learns from.

import type { FrameKind } from "../../wire/packet.js";
import type { DropDecision, FloodDecision } from "./types.js";

export type Unanswered = "unknown" | "duplicate" | "self";

const flood = (reason: FloodDecision["reason"]): FloodDecision => Object.freeze({ kind: "flood", reason });
const drop = (reason: DropDecision["reason"]): DropDecision => Object.freeze({ kind: "drop", reason });

export const FLOOD: Readonly<Record<Unanswered | "gratuitous", FloodDecision>> = {
  unknown: flood("unknown"),
  duplicate: flood("duplicate"),
  self: flood("self"),
  gratuitous: flood("gratuitous"),
};

export const DROP: Readonly<Record<DropDecision["reason"], DropDecision>> = {
  unknown: drop("unknown"),
  duplicate: drop("duplicate"),
  self: drop("self"),
  local: drop("local"),
  rate: drop("rate"),
  "unknown-vni": drop("unknown-vni"),
  spoofed: drop("spoofed"),
  gratuitous: drop("gratuitous"),
};

/**
 * Whether the table learns from a decoded frame of `kind` whose binding is `ip` (see
 * LearnedFrame: for an NA, ip is non-null only with the target link-layer address option).
 * RFC 9161 §3.2.1: ARP requests, replies and gratuitous ARPs teach their sender; an NA teaches
 * its target only with that option; an NS never teaches; a probe (ip null) teaches nothing.
 */
export function learnsFrom(kind: FrameKind, ip: string | null): boolean {
  if (ip === null) return false;
  return kind === "arp-request" || kind === "arp-reply" || kind === "garp" || kind === "nd-na";
}
