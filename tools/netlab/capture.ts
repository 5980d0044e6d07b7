/**
 * Packet capture with tcpdump in a lab namespace.
 *
 * Found on this machine: tcpdump needs --immediate-mode, or packets captured in the last second
 * before it is stopped are lost (libpcap TPACKET_V3 hands packets over in blocks, up to 1 s late).
 */
import type { Lab } from "./lab.js";
import type { LabProcess } from "./process.js";
import { waitFor } from "./wait.js";

/** A running `tcpdump -U --immediate-mode -w`. */
export class Capture {
  constructor(
    readonly file: string,
    readonly process: LabProcess,
    private readonly lab: Lab,
  ) {}

  /** @internal use Lab.capture(): starts tcpdump and resolves once it is listening. */
  static async start(lab: Lab, ns: string, iface: string, file: string, filter: string): Promise<Capture> {
    const args = ["-i", iface, "-n", "-s", "0", "-U", "--immediate-mode", "-Z", "root", "-w", file];
    const proc = lab.spawn(ns, "tcpdump", filter ? [...args, filter] : args, {
      name: `tcpdump-${ns.slice(lab.prefix.length + 1)}-${iface}`,
    });
    await waitFor(
      `tcpdump listening on ${iface} in ${ns}`,
      () => {
        if (!proc.running) throw new Error(`tcpdump exited: ${proc.log()}`);
        return proc.log().includes("listening on");
      },
      { timeoutMs: 10_000, intervalMs: 50 },
    );
    return new Capture(file, proc, lab);
  }

  /** Stops tcpdump (it flushes on SIGTERM) and returns the pcap's path. */
  async stop(): Promise<string> {
    await this.process.stop();
    return this.file;
  }

  /**
   * The captured packets as tcpdump prints them (`tcpdump -r <file> -n -e`: one line per packet,
   * with the link-layer header), optionally through a filter; stops the capture first.
   */
  async lines(filter = ""): Promise<string[]> {
    await this.stop();
    const r = await this.lab.exec(null, "tcpdump", ["-r", this.file, "-n", "-e", ...(filter ? [filter] : [])]);
    return r.stdout.split("\n").filter((l) => l.trim() !== "");
  }
}
