// `evpn-proxy check --config FILE`: validate the configuration, print every error or a summary.
import { formatConfigError, loadConfig } from "../config/load.js";

function count(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** 0 and a one-line summary on `out` when the file is valid; 2 and one line per error on `err`. */
export function checkCommand(file: string, out: NodeJS.WritableStream, err: NodeJS.WritableStream): number {
  const r = loadConfig(file);
  if (!r.ok) {
    for (const e of r.errors) err.write(`${formatConfigError(e)}\n`);
    return 2;
  }
  const c = r.config;
  const vteps = c.services.reduce((n, s) => n + s.staticVteps.length, 0);
  const macs = c.services.reduce((n, s) => n + s.staticVteps.reduce((m, v) => m + v.macs.length, 0), 0);
  out.write(
    `${file}: OK: ${count(c.neighbors.length, "neighbor")}, ${count(c.services.length, "service")}, ` +
      `${count(vteps, "static VTEP")}, ${count(macs, "static MAC")}\n`,
  );
  return 0;
}
