// JSON that carries Uint8Array values (as {"$hex": "..."}), for the test IPC with speaker-child.
import { fromHex, toHex } from "../../src/codec/index.js";

export function toJsonSafe(v: unknown): unknown {
  if (v instanceof Uint8Array) return { $hex: toHex(v) };
  if (Array.isArray(v)) return v.map(toJsonSafe);
  if (v !== null && typeof v === "object") {
    const o: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) if (x !== undefined) o[k] = toJsonSafe(x);
    return o;
  }
  return v;
}

export function fromJsonSafe(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(fromJsonSafe);
  if (v !== null && typeof v === "object") {
    const o = v as Record<string, unknown>;
    if (typeof o["$hex"] === "string" && Object.keys(o).length === 1) return fromHex(o["$hex"]);
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(o)) out[k] = fromJsonSafe(x);
    return out;
  }
  return v;
}
