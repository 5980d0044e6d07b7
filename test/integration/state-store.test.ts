// The state directory on disk: prepared at start (created 0750, leftovers of a crash removed,
// unusable directories refused with the reason), the file replaced whole through a temporary file,
// and the background saver: one write at a time, slices, a save at stop, failures reported.
import assert from "node:assert/strict";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { Learner } from "../../src/dataplane/learning/learner.js";
import { changeStamp } from "../../src/dataplane/learning/persist.js";
import { decodeState } from "../../src/state/codec.js";
import { type SaveEvent, StateSaver } from "../../src/state/io/saver.js";
import { STATE_FILE, StateStore } from "../../src/state/io/store.js";
import { saveTiming } from "../../src/state/policy.js";
import { A, config, FakeFabric, fr } from "../helpers/learning.js";

const root = mkdtempSync(join(tmpdir(), "evpn-proxy-state-"));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const fresh = () => join(root, `d${n++}`);

function mac(i: number): string {
  return `02:00:00:${((i >> 16) & 0xff).toString(16).padStart(2, "0")}:${((i >> 8) & 0xff).toString(16).padStart(2, "0")}:${(i & 0xff).toString(16).padStart(2, "0")}`;
}

function learnerWith(count: number): Learner {
  const l = new Learner(config(), new FakeFabric());
  for (let i = 0; i < count; i++) l.frame(fr(A, mac(i), `198.51.${(i >> 8) & 0xff}.${i & 0xff}`), 1000 + i);
  return l;
}

function saver(store: StateStore, l: Learner | null, events: SaveEvent[], clock = () => 1_000_000, sliceMs?: number) {
  return new StateSaver({
    store,
    source: () => (l ? { records: () => l.records(), stamp: () => changeStamp(l.counters()) } : null),
    timing: saveTiming(1, 300),
    clock,
    onEvent: (e) => events.push(e),
    ...(sliceMs !== undefined ? { sliceMs } : {}),
  });
}

describe("the state directory", () => {
  test("created with mode 0750 (umask permitting), leftover temporary files removed", async () => {
    const dir = join(fresh(), "nested", "state");
    await new StateStore(dir).prepare();
    assert.equal(statSync(dir).mode & 0o777 & ~process.umask(), 0o750 & ~process.umask());
    writeFileSync(join(dir, ".learned.state.tmp-123-0"), "torn");
    writeFileSync(join(dir, "other"), "kept");
    await new StateStore(dir).prepare();
    assert.deepEqual(readdirSync(dir), ["other"]);
  });

  test("a directory that cannot be created or written: ERR_STATE_DIRECTORY with the path and the reason", async () => {
    const d = fresh();
    mkdirSync(d);
    writeFileSync(join(d, "file"), "");
    await assert.rejects(new StateStore(join(d, "file", "state")).prepare(), {
      code: "ERR_STATE_DIRECTORY",
      message: `state-directory ${join(d, "file", "state")}: cannot create it: a path component is not a directory (a writable directory is needed, or state-directory: false)`,
    });
    await assert.rejects(new StateStore(join(d, "file")).prepare(), {
      code: "ERR_STATE_DIRECTORY",
      message: `state-directory ${join(d, "file")}: cannot create it: exists and is not a directory (a writable directory is needed, or state-directory: false)`,
    });
  });

  test("read: none, the bytes, or why it cannot be read", async () => {
    const dir = fresh();
    const s = new StateStore(dir);
    await s.prepare();
    assert.equal(await s.read(), null);
    writeFileSync(s.file, "abc");
    assert.deepEqual(await s.read(), Buffer.from("abc"));
    rmSync(s.file);
    mkdirSync(s.file);
    assert.equal(await s.read(), "cannot read it: is a directory, not a file");
  });

  test("a pending file replaces the state file only when committed; aborted, it leaves nothing", async () => {
    const dir = fresh();
    const s = new StateStore(dir);
    await s.prepare();
    writeFileSync(s.file, "old");
    const p = await s.create();
    await p.append(Buffer.from("new"));
    assert.equal(readFileSync(s.file, "utf8"), "old", "not in place before commit");
    await p.commit();
    assert.equal(readFileSync(s.file, "utf8"), "new");
    const q = await s.create();
    await q.append(Buffer.from("never"));
    await q.abort();
    assert.deepEqual(readdirSync(dir), [STATE_FILE]);
    assert.equal(readFileSync(s.file, "utf8"), "new");
  });
});

describe("the saver", () => {
  test("saves a decodable file of every entry, in slices", async () => {
    const store = new StateStore(fresh());
    await store.prepare();
    const l = learnerWith(20_000);
    const events: SaveEvent[] = [];
    await saver(store, l, events, () => 1_000_000, 1).save();
    const e = events[0]!;
    assert.equal(e.type, "state-saved", JSON.stringify(e));
    if (e.type !== "state-saved") return;
    assert.deepEqual([e.records, e.skipped, e.bytes], [20_000, 0, statSync(store.file).size]);
    const r = decodeState(readFileSync(store.file));
    assert.ok(r.ok);
    assert.equal(r.state.savedAt, 1_000_000);
    const back = new Learner(config(), new FakeFabric());
    back.restore(r.state.records(), 30_000);
    assert.deepEqual(back.table(), l.table());
  });

  test("one write at a time: a second save while one is in flight is the same save", async () => {
    const store = new StateStore(fresh());
    await store.prepare();
    const events: SaveEvent[] = [];
    const s = saver(store, learnerWith(5000), events);
    const a = s.save();
    const b = s.save();
    assert.equal(a, b);
    await a;
    assert.equal(events.length, 1);
  });

  test("due saves in the background; nothing when nothing changed; a save at stop when something did", async () => {
    const store = new StateStore(fresh());
    await store.prepare();
    const l = learnerWith(10);
    const events: SaveEvent[] = [];
    let now = 1_000_000;
    const s = saver(store, l, events, () => now);
    s.start();
    await sleep(1200);
    assert.equal(events.length, 0, "the interval (1 s on the saver's clock) has not passed");
    now += 1000;
    await sleep(1200);
    assert.equal(events.length, 1);
    await sleep(1100);
    assert.equal(events.length, 1, "nothing changed since");
    l.frame(fr(A, mac(99)), 2000);
    await s.stop();
    assert.equal(events.length, 2);
    const r = decodeState(readFileSync(store.file));
    assert.ok(r.ok);
    assert.equal(r.state.count, 11);
    await s.stop();
    assert.equal(events.length, 2, "a stop with nothing new writes nothing");
  });

  test("nothing to save without a learning engine", async () => {
    const store = new StateStore(fresh());
    await store.prepare();
    const events: SaveEvent[] = [];
    await saver(store, null, events).save();
    assert.deepEqual(events, []);
    assert.equal(existsSync(store.file), false);
  });

  test("a failing write is reported and leaves the previous file; the next save works again", async () => {
    const dir = fresh();
    const store = new StateStore(dir);
    await store.prepare();
    const events: SaveEvent[] = [];
    const l = learnerWith(10);
    const s = saver(store, l, events);
    await s.save();
    const before = readFileSync(store.file);
    rmSync(dir, { recursive: true });
    await s.save();
    assert.equal(events[1]?.type, "state-save-failed");
    assert.match(events[1]?.type === "state-save-failed" ? events[1].message : "", /ENOENT/);
    mkdirSync(dir);
    writeFileSync(store.file, before);
    await s.save();
    assert.equal(events[2]?.type, "state-saved");
  });
});
