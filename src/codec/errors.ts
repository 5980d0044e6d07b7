// Typed decode/encode errors. Every error a peer can provoke carries the NOTIFICATION it would
// cause and the RFC 7606 §2 error-handling approach that applies; codes are stable strings.

import { ProxyError } from "../errors.js";

/**
 * RFC 7606 §2 approaches, strongest first. "session-reset" also covers the non-UPDATE errors of
 * RFC 4271 §6 that always close the session.
 */
export type ErrorAction = "session-reset" | "afi-safi-disable" | "treat-as-withdraw" | "attribute-discard";

const ACTION_RANK: Record<ErrorAction, number> = {
  "session-reset": 4,
  "afi-safi-disable": 3,
  "treat-as-withdraw": 2,
  "attribute-discard": 1,
};

/** The stronger of two approaches (RFC 7606 §3: the most severe error found applies). */
export function strongerAction(a: ErrorAction | null, b: ErrorAction | null): ErrorAction | null {
  if (a === null) return b;
  if (b === null) return a;
  return ACTION_RANK[a] >= ACTION_RANK[b] ? a : b;
}

export interface BgpErrorInit {
  code: string;
  message: string;
  action: ErrorAction;
  notifyCode: number;
  notifySubcode: number;
  data?: Uint8Array;
  attrType?: number;
  afi?: number;
  safi?: number;
}

export class BgpError extends ProxyError {
  readonly action: ErrorAction;
  /** NOTIFICATION to send when the action (or its fallback) resets the session. */
  readonly notifyCode: number;
  readonly notifySubcode: number;
  readonly data: Uint8Array;
  /** Path attribute the error belongs to, if any. */
  readonly attrType: number | undefined;
  /** AFI/SAFI to disable for "afi-safi-disable". */
  readonly afi: number | undefined;
  readonly safi: number | undefined;

  constructor(init: BgpErrorInit) {
    super(init.code, init.message);
    this.action = init.action;
    this.notifyCode = init.notifyCode;
    this.notifySubcode = init.notifySubcode;
    this.data = init.data ?? EMPTY;
    this.attrType = init.attrType;
    this.afi = init.afi;
    this.safi = init.safi;
  }

  toJSON(): Record<string, unknown> {
    return {
      code: this.code,
      message: this.message,
      action: this.action,
      notification: { code: this.notifyCode, subcode: this.notifySubcode },
      ...(this.attrType !== undefined ? { attrType: this.attrType } : {}),
      ...(this.afi !== undefined ? { afi: this.afi, safi: this.safi } : {}),
    };
  }
}

const EMPTY = new Uint8Array(0);

/** Errors thrown by encoders for invalid local input (a programming or config error, never peer input). */
export class EncodeError extends ProxyError {}

export type DecodeResult<T> = { ok: true; value: T } | { ok: false; error: BgpError };
