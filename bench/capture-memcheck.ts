// bench/capture-churn.ts under valgrind's memcheck: every read or write into memory that is
// freed or was never allocated, anywhere in the process (the addon, libuv, V8), is an error.
// Root (CAP_NET_RAW), valgrind installed (scripts/install-deps.sh).
//   npx tsc -p tsconfig.json --outDir dist-bench && node dist-bench/bench/capture-memcheck.js [iterations=1000] [flood=20000]
// The one error every Node program shows under memcheck (V8 scanning the stack for pointers) is
// suppressed by bench/valgrind-node.supp. Prints the churn's JSON line and memcheck's counts.
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

const iterations = process.argv[2] ?? "1000";
const flood = process.argv[3] ?? "20000";
const churn = fileURLToPath(new URL("./capture-churn.js", import.meta.url));
const supp = fileURLToPath(new URL("../../bench/valgrind-node.supp", import.meta.url));
const args = [
  "--error-exitcode=99",
  "--leak-check=full",
  "--errors-for-leak-kinds=definite",
  `--suppressions=${supp}`,
  process.execPath,
  "--expose-gc",
  churn,
  iterations,
  flood,
];
const t0 = Date.now();
const child = spawn("valgrind", args, { stdio: ["ignore", "pipe", "pipe"] });
let out = "";
let err = "";
child.stdout.on("data", (b: Buffer) => (out += b.toString()));
child.stderr.on("data", (b: Buffer) => (err += b.toString()));
const code = await new Promise<number | null>((r) => child.on("exit", r));
const num = (re: RegExp): number | null => {
  const m = re.exec(err);
  return m ? Number(m[1]!.replace(/,/g, "")) : null;
};
const summary = {
  command: `valgrind ${args.join(" ")}`,
  exitCode: code,
  minutes: Math.round((Date.now() - t0) / 6000) / 10,
  churn: out.trim() ? (JSON.parse(out.trim()) as unknown) : null,
  memcheck: {
    errors: num(/ERROR SUMMARY: ([\d,]+) errors/),
    suppressed: num(/ERROR SUMMARY: [\d,]+ errors from \d+ contexts \(suppressed: ([\d,]+)/),
    definitelyLostBytes: num(/definitely lost: ([\d,]+) bytes/),
    invalidAccesses: (err.match(/Invalid (read|write|free)/g) ?? []).length,
  },
};
process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
if (code !== 0) {
  process.stderr.write(err.split("\n").slice(-80).join("\n"));
  process.exitCode = 1;
}
