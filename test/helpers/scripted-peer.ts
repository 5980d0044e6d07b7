// A BGP peer driven by a test script over a real TCP socket: it sends exactly the bytes the
// test gives it and hands back every message it receives, decoded with our codec.
import net from "node:net";
import {
  type BgpMessage,
  type Capability,
  decodeMessage,
  encodeMessage,
  GR_FORWARDING_PRESERVED,
  KEEPALIVE,
  makeOpen,
  MessageFramer,
} from "../../src/codec/index.js";

/** Graceful restart (RFC 4724 §3): restart time 120 s, EVPN with its forwarding state preserved. */
export const GR_EVPN: Capability = {
  code: 64,
  restartFlags: 0,
  restartTime: 120,
  families: [{ afi: 25, safi: 70, flags: GR_FORWARDING_PRESERVED }],
};

export class ScriptedPeer {
  readonly sock: net.Socket;
  private framer = new MessageFramer(65535);
  private queue: BgpMessage[] = [];
  private waiters: ((m: BgpMessage | null) => void)[] = [];
  closed = false;
  readonly closedPromise: Promise<void>;

  private constructor(sock: net.Socket) {
    this.sock = sock;
    sock.on("data", (b: Buffer) => {
      this.framer.push(b);
      for (let f = this.framer.next(); f; f = this.framer.next()) {
        if (!f.ok) throw f.error;
        const r = decodeMessage(f.frame);
        if (!r.ok) throw r.error;
        this.deliver(r.message);
      }
    });
    this.closedPromise = new Promise((resolve) =>
      sock.on("close", () => {
        this.closed = true;
        for (const w of this.waiters.splice(0)) w(null);
        resolve();
      }),
    );
    sock.on("error", () => undefined);
  }

  static connect(host: string, port: number, localAddress: string): Promise<ScriptedPeer> {
    return new Promise((resolve, reject) => {
      const s = net.connect({ host, port, localAddress }, () => resolve(new ScriptedPeer(s)));
      s.once("error", reject);
    });
  }

  static accept(server: net.Server): Promise<ScriptedPeer> {
    return new Promise((resolve) => server.once("connection", (s) => resolve(new ScriptedPeer(s))));
  }

  private deliver(m: BgpMessage): void {
    const w = this.waiters.shift();
    if (w) w(m);
    else this.queue.push(m);
  }

  send(bytes: Uint8Array): void {
    this.sock.write(bytes);
  }

  /** The next message, or null if the connection closed; rejects after timeoutMs. */
  next(timeoutMs = 5000): Promise<BgpMessage | null> {
    const m = this.queue.shift();
    if (m) return Promise.resolve(m);
    if (this.closed) return Promise.resolve(null);
    return new Promise((resolve, reject) => {
      const waiter = (x: BgpMessage | null) => {
        clearTimeout(t);
        resolve(x);
      };
      const t = setTimeout(() => {
        // A waiter that timed out must not swallow a later message.
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error(`no message within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  /** Skips KEEPALIVEs and returns the next other message (or null on close). */
  async nextNonKeepalive(timeoutMs = 5000): Promise<BgpMessage | null> {
    for (;;) {
      const m = await this.next(timeoutMs);
      if (m === null || m.type !== 4) return m;
    }
  }

  /**
   * OPEN (EVPN, 4-octet AS, route refresh, and `extra` capabilities) + KEEPALIVE, and waits for
   * the speaker's OPEN and KEEPALIVE.
   */
  async handshake(o: { asn: number; id: string; hold: number; extra?: Capability[] }): Promise<BgpMessage> {
    this.send(
      encodeMessage(
        makeOpen({
          asn: o.asn,
          holdTime: o.hold,
          bgpId: o.id,
          capabilities: [{ code: 1, afi: 25, safi: 70 }, { code: 2 }, { code: 65, asn: o.asn }, ...(o.extra ?? [])],
        }),
      ),
    );
    const open = await this.next();
    if (open?.type !== 1) throw new Error(`expected OPEN, got ${JSON.stringify(open)}`);
    this.send(encodeMessage(KEEPALIVE));
    const ka = await this.next();
    if (ka?.type !== 4) throw new Error(`expected KEEPALIVE, got ${JSON.stringify(ka)}`);
    return open;
  }

  close(): void {
    this.sock.destroy();
  }
}
