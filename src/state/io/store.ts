// The state directory on disk: the state file read at start and replaced crash-safe — the new
// content goes to a temporary file in the same directory, is fsynced, renamed over the old file,
// and the directory is fsynced, so that after a crash the file is the old one or the new one,
// whole (a torn file is still caught by the checksum: src/state/codec.ts).

import { constants } from "node:fs";
import { type FileHandle, mkdir, open, readdir, readFile, rename, unlink } from "node:fs/promises";
import { join } from "node:path";
import { ProxyError } from "../../errors.js";

export const STATE_FILE = "learned.state";
const TEMP_PREFIX = ".learned.state.tmp-";

/** "permission denied" rather than "EACCES: permission denied, open '…'". */
function reason(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  switch (err.code) {
    case "EACCES":
    case "EPERM":
      return "permission denied";
    case "EROFS":
      return "read-only file system";
    case "ENOTDIR":
      return "a path component is not a directory";
    case "EEXIST":
      return "exists and is not a directory";
    case "ENOSPC":
      return "no space left on device";
    case "EISDIR":
      return "is a directory, not a file";
    default:
      return err.message ?? String(e);
  }
}

/** A new state file being written; `commit()` puts it in place, `abort()` throws it away. */
export class PendingFile {
  bytes = 0;

  constructor(
    private readonly fh: FileHandle,
    private readonly temp: string,
    private readonly store: StateStore,
  ) {}

  async append(b: Uint8Array): Promise<void> {
    for (let off = 0; off < b.length;) {
      const { bytesWritten } = await this.fh.write(b, off, b.length - off);
      off += bytesWritten;
    }
    this.bytes += b.length;
  }

  async commit(): Promise<void> {
    await this.fh.sync();
    await this.fh.close();
    await rename(this.temp, this.store.file);
    await this.store.syncDirectory();
  }

  async abort(): Promise<void> {
    await this.fh.close().catch(() => undefined);
    await unlink(this.temp).catch(() => undefined);
  }
}

export class StateStore {
  readonly file: string;
  private seq = 0;

  constructor(readonly directory: string) {
    this.file = join(directory, STATE_FILE);
  }

  /**
   * Creates the directory (mode 0750) when missing, removes temporary files a crash left, and
   * writes and syncs a probe file: a directory that cannot hold the state fails the start with
   * ERR_STATE_DIRECTORY, "state-directory <dir>: <reason>".
   */
  async prepare(): Promise<void> {
    const fail = (what: string, e: unknown) =>
      new ProxyError(
        "ERR_STATE_DIRECTORY",
        `state-directory ${this.directory}: ${what}: ${reason(e)} (a writable directory is needed, or state-directory: false)`,
        { cause: e },
      );
    try {
      await mkdir(this.directory, { recursive: true, mode: 0o750 });
    } catch (e) {
      throw fail("cannot create it", e);
    }
    let names: string[];
    try {
      names = await readdir(this.directory);
    } catch (e) {
      throw fail("cannot read it", e);
    }
    for (const n of names) if (n.startsWith(TEMP_PREFIX)) await unlink(join(this.directory, n)).catch(() => undefined);
    try {
      const probe = await this.create();
      await probe.append(new Uint8Array(1));
      await probe.abort();
      await this.syncDirectory();
    } catch (e) {
      throw fail("cannot write in it", e);
    }
  }

  /** The state file's bytes; null when there is none; a string: why it cannot be read. */
  async read(): Promise<Uint8Array | null | string> {
    try {
      return await readFile(this.file);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return null;
      return `cannot read it: ${reason(e)}`;
    }
  }

  /** A new temporary file next to the state file. */
  async create(): Promise<PendingFile> {
    const temp = join(this.directory, `${TEMP_PREFIX}${process.pid}-${this.seq++}`);
    const fh = await open(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o640);
    return new PendingFile(fh, temp, this);
  }

  /** fsync of the directory: a rename in it is durable once this returns. */
  async syncDirectory(): Promise<void> {
    const fh = await open(this.directory, constants.O_RDONLY);
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  }
}
