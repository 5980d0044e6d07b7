// Shared scaffolding of the lab tests: timestamped diagnostics, chained steps, and waiting that
// gives up at once when the daemon under test exits.
import type { TestContext } from "node:test";
import type { Lab, LabProcess } from "../../tools/netlab/index.js";

/** `t.diagnostic` with the seconds since this call; extra lines indented. */
export function labNote(t: TestContext): (msg: string) => void {
  const t0 = Date.now();
  return (msg) => {
    const [first, ...rest] = msg.split("\n");
    t.diagnostic(`${((Date.now() - t0) / 1000).toFixed(2)} s: ${first}`);
    for (const line of rest) t.diagnostic(`    ${line}`);
  };
}

/** Steps as subtests that build on each other: once one fails, the rest are skipped; `extra` adds to the failure log. */
export function labSteps(
  t: TestContext,
  lab: Lab,
  prefix: string,
  timeoutMs: number,
  extra: () => string = () => "",
): (name: string, fn: (st: TestContext) => Promise<void>) => Promise<void> {
  let broken: string | undefined;
  return (name, fn) =>
    t.test(name, { timeout: timeoutMs }, async (st) => {
      if (broken !== undefined) return st.skip(`skipped: "${broken}" failed`);
      try {
        await fn(st);
      } catch (e) {
        broken = name;
        process.stderr.write(`[${prefix}] "${name}" failed; logs:\n${lab.dumpLogs(40)}\n${extra()}\n`);
        throw e;
      }
    });
}

/** lab.waitFor with `diagnostics` on timeout; gives up at once when the current `proc()` exits. */
export function waitWhileRunning(
  lab: Lab,
  proc: () => LabProcess | undefined,
  diagnostics: () => string,
): <T>(
  what: string,
  fn: () => Promise<T | undefined | null | false>,
  timeoutMs?: number,
  intervalMs?: number,
) => Promise<T> {
  return async (what, fn, timeoutMs = 20_000, intervalMs = 100) => {
    const p = proc();
    let done = false;
    const died = p
      ? p.exited.then((e) => {
          if (done) return undefined as never;
          throw new Error(`evpn-proxy exited ${JSON.stringify(e)} while waiting for: ${what}\n${diagnostics()}`);
        })
      : new Promise<never>(() => undefined);
    try {
      return await Promise.race([lab.waitFor(what, fn, { timeoutMs, intervalMs, diagnostics }), died]);
    } finally {
      done = true;
    }
  };
}
