// Runs a callback with a fresh lab in a node:test test and always tears it down.
import { Lab, type LabOptions } from "./lab.js";
import { say } from "./proc.js";

/** What withLab needs of node:test's TestContext. */
export interface LabTestContext {
  readonly name: string;
  readonly signal: AbortSignal;
}

/**
 * Runs `fn` with a fresh lab and tears it down afterwards, also when `fn` throws or the test is
 * cancelled or times out (`t.signal`). On failure the tails of the daemon logs go to stderr.
 * Fails the test if teardown leaves something behind.
 */
export async function withLab<T>(
  t: LabTestContext,
  prefix: string,
  fn: (lab: Lab) => Promise<T>,
  opts: LabOptions = {},
): Promise<T> {
  const lab = await Lab.create(prefix, opts);
  const onAbort = (): void => {
    say(`[lab ${prefix}] test "${t.name}" aborted: tearing down`);
    lab.teardownSync();
  };
  t.signal.addEventListener("abort", onAbort, { once: true });
  let ok = false;
  try {
    const r = await fn(lab);
    ok = true;
    return r;
  } catch (e) {
    say(`[lab ${prefix}] test "${t.name}" failed; daemon logs:\n${lab.dumpLogs()}`);
    throw e;
  } finally {
    t.signal.removeEventListener("abort", onAbort);
    const problems = await lab.teardown();
    // eslint-disable-next-line no-unsafe-finally
    if (ok && problems.length > 0) throw new Error(`lab teardown left problems: ${problems.join("; ")}`);
  }
}
