#!/usr/bin/env -S node --max-semi-space-size=1
// evpn-proxy command line: the daemon (`run`), configuration check (`check`), what a capture
// would teach (`learn --pcap … --dry-run`), `decode`, which decodes BGP messages for operators
// (hex in, FRR notation and stable JSON out), and the running daemon's API clients (`show`,
// `clear`, `reload`: show.ts).
import { readFileSync } from "node:fs";
import { Command, Option } from "commander";
import { formatConfigError, loadConfig } from "../config/load.js";
import { Daemon } from "../app/daemon.js";
import { daemonLogger } from "../app/log.js";
import type { SenderChoice } from "../dataplane/io/vxlan-sender.js";
import type { ReceiverChoice } from "../dataplane/io/udp-source.js";
import { checkCommand } from "./check.js";
import { type DecodedLine, decodeHexLines } from "./decode.js";
import { learnCommand } from "./learn.js";
import { registerApiCommands } from "./show.js";

const pkg = JSON.parse(readFileSync(new URL("../../../package.json", import.meta.url), "utf8")) as { version: string };

/** Exit status for an invalid configuration (`run` and `check`). */
const EXIT_CONFIG = 2;
/** SIGTERM/SIGINT: the NOTIFICATIONs must be out and the process gone within 2 s. */
const STOP_DEADLINE_MS = 1800;

function print(lines: DecodedLine[], json: boolean): number {
  let bad = 0;
  for (const l of lines) {
    if (!l.ok) bad++;
    process.stdout.write(`${json ? JSON.stringify(l.json) : l.text}\n`);
  }
  return bad === 0 ? 0 : 1;
}

const LOG_LEVELS = ["trace", "debug", "info", "warn", "error", "fatal", "silent"];

async function run(file: string, level: string, receiver: ReceiverChoice, sender: SenderChoice): Promise<void> {
  const loaded = loadConfig(file);
  if (!loaded.ok) {
    // Nothing is opened before the configuration is known to be valid.
    for (const e of loaded.errors) process.stderr.write(`${formatConfigError(e)}\n`);
    process.exit(EXIT_CONFIG);
  }
  const log = daemonLogger(level);
  const daemon = new Daemon(loaded.config, log, { receiver, sender, file, version: pkg.version });
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    daemon.events.publish("daemon", { type: "stopping", signal });
    setTimeout(() => process.exit(0), STOP_DEADLINE_MS).unref();
    void daemon.stop(`evpn-proxy stopping (${signal})`).then(() => process.exit(0));
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
  process.on("SIGHUP", () => void daemon.reloadFile(file));
  try {
    await daemon.start();
  } catch (e) {
    log.fatal(`cannot start: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
  }
}

const program = new Command();
program.name("evpn-proxy").description("BGP EVPN proxy for statically configured VXLAN VTEPs").version(pkg.version);

program
  .command("run")
  .description("run the daemon in the foreground (SIGHUP reloads the configuration, SIGTERM stops)")
  .requiredOption("-c, --config <file>", "configuration file (YAML)")
  .addOption(
    new Option("--log-level <level>", "log level; debug adds a line per learned route")
      .choices(LOG_LEVELS)
      .env("EVPN_PROXY_LOG_LEVEL")
      .default("info"),
  )
  .addOption(
    new Option("--vxlan-receiver <receiver>", "VXLAN socket reader: native (recvmmsg addon) when built, else dgram")
      .choices(["auto", "native", "dgram"])
      .env("EVPN_PROXY_VXLAN_RECEIVER")
      .default("auto"),
  )
  .addOption(
    new Option(
      "--vxlan-sender <sender>",
      "sender of replicated copies: native (sendmmsg addon) when built, else dgram (only from the proxy's address)",
    )
      .choices(["auto", "native", "dgram"])
      .env("EVPN_PROXY_VXLAN_SENDER")
      .default("auto"),
  )
  .action(
    async (opts: { config: string; logLevel: string; vxlanReceiver: ReceiverChoice; vxlanSender: SenderChoice }) =>
      run(opts.config, opts.logLevel, opts.vxlanReceiver, opts.vxlanSender),
  );

program
  .command("check")
  .description("validate a configuration file: exit 0 when valid, 2 otherwise")
  .requiredOption("-c, --config <file>", "configuration file (YAML)")
  .action((opts: { config: string }) => {
    process.exitCode = checkCommand(opts.config, process.stdout, process.stderr);
  });

program
  .command("learn")
  .description("replay a pcap capture through data-plane learning and print what would be learned")
  .requiredOption("--pcap <file>", "capture file (classic pcap; convert pcapng with tshark -F pcap)")
  .requiredOption("-c, --config <file>", "configuration file (YAML)")
  .option("--dry-run", "learn without BGP and print the table (the only mode so far)")
  .option("--json", "print one JSON object")
  .action((opts: { pcap: string; config: string; dryRun?: boolean; json?: boolean }) => {
    process.exitCode = learnCommand(
      { pcap: opts.pcap, config: opts.config, dryRun: opts.dryRun === true, json: opts.json === true },
      process.stdout,
      process.stderr,
    );
  });

program
  .command("decode")
  .description(
    "decode BGP messages given as hex (one message per line, # comments), print them in FRR notation or JSON",
  )
  .argument("[hex...]", "messages as hex; read from --file or standard input when omitted")
  .option("-f, --file <file>", "file with one hex message per line")
  .option("--json", "print one stable JSON object per message")
  .option("--as2", "peer without the 4-octet AS capability (2-octet AS_PATH)")
  .action((hex: string[], opts: { file?: string; json?: boolean; as2?: boolean }) => {
    const input = hex.length > 0 ? hex.join("\n") : readFileSync(opts.file ?? 0, "utf8");
    process.exitCode = print(decodeHexLines(input, { as4: !opts.as2 }), opts.json === true);
  });

registerApiCommands(program);

await program.parseAsync();
