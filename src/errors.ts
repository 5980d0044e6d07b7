// The one error base class of evpn-proxy. Every error the daemon raises carries a stable,
// machine-readable `code` ("ERR_…") that logs, the API and tests match on; the message is for
// people. Peer input never reaches a throw: decoders return typed results (see codec/errors.ts).

export class ProxyError extends Error {
  /** Stable machine-readable code, e.g. "ERR_CONFIG_ADDRESS". */
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** A value that validation should have refused reached a module: a programming error. */
export class InvariantError extends ProxyError {
  constructor(code: string, message: string) {
    super(code, message);
  }
}
