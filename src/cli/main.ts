#!/usr/bin/env -S node --max-semi-space-size=1
// evpn-proxy command line. The daemon (`run`, `check`) arrives with the proxy; today the tool
// decodes BGP messages for operators: hex in, FRR notation and stable JSON out.
import { readFileSync } from "node:fs";
import { Command } from "commander";
import { type DecodedLine, decodeHexLines } from "./decode.js";

const pkg = JSON.parse(readFileSync(new URL("../../../package.json", import.meta.url), "utf8")) as {
  version: string;
};

function print(lines: DecodedLine[], json: boolean): number {
  let bad = 0;
  for (const l of lines) {
    if (!l.ok) bad++;
    if (json) process.stdout.write(`${JSON.stringify(l.json)}\n`);
    else process.stdout.write(`${l.text}\n`);
  }
  return bad === 0 ? 0 : 1;
}

const program = new Command();
program
  .name("evpn-proxy")
  .description("BGP EVPN proxy for statically configured VXLAN VTEPs (the daemon is under construction; see README)")
  .version(pkg.version);

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

program.parse();
