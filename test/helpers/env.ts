// Gates for tests that need root or external tools. Outside CI they skip loudly; under CI=true a
// missing prerequisite is a failure, never a silent skip.
import { execFileSync } from "node:child_process";
import type { TestContext } from "node:test";

export const inCi = process.env["CI"] === "true";

export function hasTool(name: string): boolean {
  try {
    execFileSync("sh", ["-c", `command -v ${name}`], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

export function isRoot(): boolean {
  return typeof process.getuid === "function" && process.getuid() === 0;
}

/**
 * Returns true when every tool is present (and root when asked). Otherwise skips the test with a
 * loud message, or throws under CI=true so the run fails.
 */
export function requireTools(t: TestContext, tools: string[], opts: { root?: boolean } = {}): boolean {
  const missing = tools.filter((tool) => !hasTool(tool));
  if (opts.root && !isRoot()) missing.push("root privileges");
  if (missing.length === 0) return true;
  const msg = `MISSING PREREQUISITES: ${missing.join(", ")} — install them (see .ci/run)`;
  if (inCi) throw new Error(`${msg}; CI=true forbids skipping`);
  process.stderr.write(`\n*** SKIPPING "${t.name}": ${msg} ***\n\n`);
  t.skip(msg);
  return false;
}
