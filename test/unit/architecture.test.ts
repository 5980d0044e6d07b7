// The layering rules, one per folder: pure cores (codecs, state machines) do no I/O, and
// dependencies point inward — net ← codec, wire ← bgp, evpn, dataplane ← app, cli; mgmt reads
// types only. Each rule is data; a second test proves that each one catches a violation.
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, normalize, relative } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "../../..");

interface Rule {
  /** Folder (repo-relative); files in a deeper folder with its own rule follow that one. */
  folder: string;
  /** Repo-relative path prefixes a module here may import (its own folder is always allowed). */
  imports: string[];
  /** Further prefixes allowed with `import type` only. */
  typeImports?: string[];
  /** Node built-ins (without "node:") and npm packages allowed. */
  packages: string[];
  /** No timers, clock, process state or require(): time and configuration come in as arguments. */
  pure: boolean;
}

const PURE_PKGS: string[] = [];
const ERRORS = "src/errors.ts";
/** The configuration model: subsystems take their typed slice of it. */
const MODEL = "src/config/model.ts";

export const RULES: Rule[] = [
  { folder: "src/net", imports: [ERRORS], packages: PURE_PKGS, pure: true },
  { folder: "src/codec", imports: ["src/net/", ERRORS], packages: PURE_PKGS, pure: true },
  { folder: "src/wire", imports: ["src/net/", "src/codec/bytes.ts", ERRORS], packages: PURE_PKGS, pure: true },
  {
    folder: "src/bgp",
    imports: ["src/codec/", "src/net/", ERRORS],
    typeImports: [MODEL],
    packages: PURE_PKGS,
    pure: true,
  },
  {
    folder: "src/bgp/io",
    imports: ["src/bgp/", "src/codec/", "src/net/", ERRORS],
    typeImports: [MODEL],
    packages: ["net", "perf_hooks"],
    pure: false,
  },
  {
    folder: "src/evpn",
    imports: ["src/bgp/", "src/codec/", "src/net/", "src/wire/", "src/config/diff.ts", ERRORS],
    typeImports: [
      "src/bgp/io/",
      "src/dataplane/learning/",
      "src/dataplane/replication/",
      "src/dataplane/arpnd/",
      MODEL,
    ],
    packages: PURE_PKGS,
    pure: true,
  },
  {
    folder: "src/dataplane/learning",
    imports: ["src/net/", "src/wire/", ERRORS],
    typeImports: [MODEL],
    packages: PURE_PKGS,
    pure: true,
  },
  {
    folder: "src/dataplane/replication",
    imports: ["src/net/", "src/wire/", "src/codec/bytes.ts", "src/dataplane/arpnd/", ERRORS],
    typeImports: [MODEL, "src/dataplane/learning/"],
    packages: PURE_PKGS,
    pure: true,
  },
  {
    folder: "src/dataplane/arpnd",
    imports: ["src/net/", "src/wire/", "src/dataplane/learning/slot-queue.ts", ERRORS],
    typeImports: [MODEL],
    packages: PURE_PKGS,
    pure: true,
  },
  {
    folder: "src/dataplane/io",
    imports: ["src/wire/", "src/net/", ERRORS],
    typeImports: [MODEL, "src/dataplane/replication/"],
    packages: ["dgram", "module"],
    pure: false,
  },
  {
    folder: "src/state",
    imports: ["src/net/", ERRORS],
    typeImports: ["src/dataplane/learning/"],
    packages: PURE_PKGS,
    pure: true,
  },
  {
    folder: "src/state/io",
    imports: ["src/state/", ERRORS],
    typeImports: ["src/dataplane/learning/"],
    packages: ["fs", "fs/promises", "path", "perf_hooks"],
    pure: false,
  },
  {
    folder: "src/config",
    imports: ["src/codec/", "src/net/", ERRORS],
    packages: ["fs", "util", "yaml", "zod"],
    pure: true,
  },
  {
    folder: "src/mgmt",
    imports: [ERRORS, "src/net/"],
    typeImports: [
      "src/bgp/",
      "src/bgp/io/",
      "src/evpn/",
      "src/dataplane/io/",
      "src/dataplane/learning/",
      "src/dataplane/replication/",
      "src/dataplane/arpnd/",
      "src/config/",
      "src/wire/",
      "src/codec/",
      "src/state/",
      "src/state/io/",
    ],
    packages: ["diagnostics_channel", "pino"],
    pure: true,
  },
  {
    // The management API: HTTP over the read models; values only from mgmt, net and the codec's text forms.
    folder: "src/api",
    imports: [ERRORS, "src/mgmt/", "src/net/", "src/codec/", "src/config/load.ts"],
    typeImports: ["src/bgp/", "src/config/", "src/dataplane/learning/", "src/evpn/"],
    packages: ["fastify", "zod", "prom-client", "crypto", "fs", "net", "path", "perf_hooks"],
    pure: false,
  },
  {
    folder: "src/app",
    imports: ["src/"],
    packages: ["pino", "pino-pretty", "fs", "perf_hooks"],
    pure: false,
  },
  { folder: "src/cli", imports: ["src/"], packages: ["commander", "fs", "module", "http", "yaml"], pure: false },
  {
    folder: "tools/netlab",
    imports: [],
    packages: ["child_process", "fs", "os", "path", "timers/promises", "util", "url", "events"],
    pure: false,
  },
];

/** Rules that hold across folders: nothing imports the composition root or the command line. */
function forbiddenTarget(file: string, target: string): string | null {
  if (target.startsWith("src/app/") && !file.startsWith("src/app/") && !file.startsWith("src/cli/"))
    return "only the command line may import the composition root (src/app)";
  if (target.startsWith("src/cli/") && !file.startsWith("src/cli/")) return "nothing imports src/cli";
  if (file.startsWith("tools/") && /^(src|test|lab|bench|scripts)\//.test(target)) return "tools/ stands alone";
  return null;
}

interface Import {
  spec: string;
  typeOnly: boolean;
}

export function importsOf(src: string): Import[] {
  const out: Import[] = [];
  const re = /^\s*(import|export)\s+(type\s+)?(?:[^"';]*?\s+from\s+)?"([^"]+)"|\bimport\s*\(\s*"([^"]+)"\s*\)/gm;
  for (const m of src.matchAll(re)) {
    if (m[4] !== undefined) out.push({ spec: m[4], typeOnly: false });
    else out.push({ spec: m[3]!, typeOnly: m[2] !== undefined });
  }
  return out;
}

const IMPURE = /\b(setTimeout|setInterval|setImmediate|queueMicrotask|Date\.now|performance\.now|process\.|require\()/;

/** What is wrong with `src` (the text of repo-relative `file`) under `rule`; empty when nothing. */
export function violations(rule: Rule, file: string, src: string): string[] {
  const bad: string[] = [];
  for (const { spec, typeOnly } of importsOf(src)) {
    if (spec.startsWith(".")) {
      const target = normalize(join(dirname(file), spec.replace(/\.js$/, ".ts")));
      const why = forbiddenTarget(file, target);
      if (why) bad.push(`${file} imports "${spec}": ${why}`);
      else {
        // A folder prefix covers the files its own rule governs, not deeper folders with a rule of their own.
        const scope = ruleOf(target)?.folder;
        const ok = (p: string) => (target === p || p === "src/" ? target.startsWith(p) : `${scope}/` === p);
        if (scope === rule.folder || rule.imports.some(ok)) continue;
        if (typeOnly && (rule.typeImports ?? []).some(ok)) continue;
        bad.push(`${file} imports "${spec}" (${target}), outside what ${rule.folder} may import`);
      }
      continue;
    }
    const pkg = spec.startsWith("node:") ? spec.slice(5) : spec.replace(/^((@[^/]+\/)?[^/]+).*$/, "$1");
    if (!rule.packages.includes(pkg)) bad.push(`${file} imports "${spec}", not allowed in ${rule.folder}`);
  }
  if (rule.pure) {
    const code = src.replace(/\/\/.*$/gm, "").replace(/\/\*[\s\S]*?\*\//g, "");
    const m = IMPURE.exec(code);
    if (m) bad.push(`${file} uses ${m[1]}: ${rule.folder} is pure (time and state come in as arguments)`);
  }
  return bad;
}

function filesUnder(folder: string): string[] {
  const abs = join(ROOT, folder);
  const out: string[] = [];
  for (const e of readdirSync(abs)) {
    const p = join(abs, e);
    if (statSync(p).isDirectory()) out.push(...filesUnder(relative(ROOT, p)));
    else if (e.endsWith(".ts")) out.push(relative(ROOT, p));
  }
  return out;
}

/** The most specific rule for a file. */
function ruleOf(file: string): Rule | undefined {
  let best: Rule | undefined;
  for (const r of RULES)
    if (file.startsWith(`${r.folder}/`) && (!best || r.folder.length > best.folder.length)) best = r;
  return best;
}

for (const rule of RULES)
  test(`${rule.folder}: imports and purity`, () => {
    const files = filesUnder(rule.folder).filter((f) => ruleOf(f) === rule);
    assert.ok(files.length > 0, `${rule.folder} has no modules`);
    const bad = files.flatMap((f) => violations(rule, f, readFileSync(join(ROOT, f), "utf8")));
    assert.deepEqual(bad, []);
  });

test("every folder under src/ and tools/ has a rule", () => {
  const files = [...filesUnder("src"), ...filesUnder("tools")].filter((f) => f !== ERRORS);
  assert.deepEqual(
    files.filter((f) => ruleOf(f) === undefined),
    [],
  );
  assert.deepEqual(importsOf(readFileSync(join(ROOT, ERRORS), "utf8")), [], "src/errors.ts imports nothing");
});

test("each rule catches a violation", () => {
  for (const rule of RULES) {
    const file = `${rule.folder}/x.ts`;
    const up = relative(rule.folder, "src").replace(/\\/g, "/");
    // An import of the composition root, and of a package no folder here needs.
    if (rule.folder !== "src/app" && rule.folder !== "src/cli")
      assert.notDeepEqual(violations(rule, file, `import { Daemon } from "${up}/app/daemon.js";\n`), [], rule.folder);
    assert.notDeepEqual(violations(rule, file, `import x from "node:vm";\n`), [], rule.folder);
    if (rule.pure) {
      assert.notDeepEqual(violations(rule, file, `const t = setTimeout(f, 1);\n`), [], rule.folder);
      assert.notDeepEqual(violations(rule, file, `const n = Date.now();\n`), [], rule.folder);
    }
    // A layer below may not reach up: codec into bgp, bgp into evpn, evpn into dataplane I/O, …
    const above: Record<string, string> = {
      "src/net": "codec/index.js",
      "src/codec": "bgp/rib.js",
      "src/wire": "dataplane/learning/learner.js",
      "src/bgp": "bgp/io/speaker.js",
      "src/bgp/io": "evpn/controller.js",
      "src/evpn": "dataplane/io/udp-source.js",
      "src/dataplane/learning": "evpn/controller.js",
      "src/dataplane/arpnd": "dataplane/learning/learner.js",
      "src/dataplane/replication": "evpn/controller.js",
      "src/dataplane/io": "dataplane/learning/learner.js",
      "src/state": "dataplane/learning/learner.js",
      "src/state/io": "evpn/controller.js",
      "src/config": "bgp/rib.js",
      "src/mgmt": "bgp/rib.js",
      "src/api": "dataplane/learning/learner.js",
    };
    const t = above[rule.folder];
    if (t !== undefined)
      assert.notDeepEqual(violations(rule, file, `import { X } from "${up}/${t}";\n`), [], `${rule.folder} → ${t}`);
  }
  // mgmt may read types, not behaviour.
  const mgmt = RULES.find((r) => r.folder === "src/mgmt")!;
  assert.deepEqual(violations(mgmt, "src/mgmt/x.ts", `import type { Rib } from "../bgp/rib.js";\n`), []);
  assert.notDeepEqual(violations(mgmt, "src/mgmt/x.ts", `import { Rib } from "../bgp/rib.js";\n`), []);
  // tools/netlab stands alone.
  const netlab = RULES.find((r) => r.folder === "tools/netlab")!;
  assert.notDeepEqual(violations(netlab, "tools/netlab/x.ts", `import { y } from "../../test/helpers/env.js";\n`), []);
});
