// Cumulus Linux NCLU's HTTP API as a source of `import-macs`: one `POST <switch>/nclu/v1/rpc` with
// the JSON body {"cmd": "show bridge macs dynamic json"} (the `net` command without `net`) and
// HTTP Basic authentication (RFC 7617) as a user of the switch; the answer is the command's output,
// a JSON array of FDB entries (nothing at all when the bridge has learned none). Cumulus serves
// it over HTTPS with a self-signed certificate: it is verified against the system's CAs, or the
// one given with --ca; --insecure skips the check. Every failure is one NcluError line.
// node:http(s) rather than fetch: Node 20's fetch takes no per-request CA or verification setting.

import { readFileSync } from "node:fs";
import http from "node:http";
import https from "node:https";
import { ProxyError } from "../errors.js";

export class NcluError extends ProxyError {}

export interface NcluOptions {
  /** The switch: https://host:8080 (the RPC path is added when the URL has none). */
  url: string;
  user?: string;
  /** A file whose first line is the password. */
  passwordFile?: string;
  /** PEM file of the CA (or the switch's own certificate) to trust. */
  ca?: string;
  /** Do not verify the certificate. */
  insecure?: boolean;
  timeoutMs?: number;
}

/** The NCLU command that lists the bridge's dynamically learned MACs. */
export const NCLU_COMMAND = "show bridge macs dynamic json";
export const NCLU_RPC_PATH = "/nclu/v1/rpc";
const MAX_ANSWER_BYTES = 64 * 1024 * 1024;
const DEFAULT_TIMEOUT_MS = 15_000;

/** Certificate verification failures (OpenSSL's and Node's codes): what --ca or --insecure fixes. */
const TLS_TRUST_CODES = new Set([
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "UNABLE_TO_GET_ISSUER_CERT",
  "CERT_HAS_EXPIRED",
  "CERT_NOT_YET_VALID",
  "ERR_TLS_CERT_ALTNAME_INVALID",
]);

/** The RPC endpoint of `--nclu URL`; throws an NcluError for anything but an http(s) URL without credentials. */
export function ncluRpcUrl(text: string): URL {
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    throw new NcluError(
      "ERR_NCLU_URL",
      `--nclu: expected a URL such as https://192.0.2.1:8080, got ${JSON.stringify(text)}`,
    );
  }
  if (u.protocol !== "https:" && u.protocol !== "http:")
    throw new NcluError("ERR_NCLU_URL", `--nclu: expected an https:// or http:// URL, got ${JSON.stringify(text)}`);
  if (u.username !== "" || u.password !== "")
    throw new NcluError("ERR_NCLU_URL", "--nclu: no credentials in the URL; use --user and --password-file");
  if (u.pathname === "/") u.pathname = NCLU_RPC_PATH;
  return u;
}

function readText(file: string, what: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (e) {
    throw new NcluError("ERR_NCLU_FILE", `cannot read the ${what} ${file}: ${(e as Error).message}`);
  }
}

/** The Authorization header value (RFC 7617 §2), or undefined without --user. */
export function basicAuth(user: string | undefined, passwordFile: string | undefined): string | undefined {
  if (user === undefined && passwordFile === undefined) return undefined;
  if (user === undefined || passwordFile === undefined)
    throw new NcluError("ERR_NCLU_AUTH", "--user and --password-file go together");
  // RFC 7617 §2: the user-id cannot contain a colon.
  if (user.includes(":")) throw new NcluError("ERR_NCLU_AUTH", "--user: a user name cannot contain ':'");
  const password = readText(passwordFile, "password file").split(/\r?\n/)[0]!;
  if (password === "") throw new NcluError("ERR_NCLU_AUTH", `the password file ${passwordFile} is empty`);
  return `Basic ${Buffer.from(`${user}:${password}`, "utf8").toString("base64")}`;
}

/** The first line of an answer, shortened, for an error message. */
const excerpt = (text: string): string => {
  const line = text.trim().split("\n")[0] ?? "";
  return JSON.stringify(line.length > 120 ? `${line.slice(0, 120)}…` : line);
};

/** Parses the command's answer: the FDB entries (an empty answer: none). */
export function parseNcluAnswer(text: string, where: string): unknown[] {
  if (text.trim() === "") return [];
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new NcluError("ERR_NCLU_ANSWER", `${where} answered with no JSON: ${excerpt(text)}`);
  }
  if (!Array.isArray(v))
    throw new NcluError(
      "ERR_NCLU_ANSWER",
      `${where} answered JSON that is not the list of FDB entries of \`${NCLU_COMMAND}\``,
    );
  return v;
}

function connectError(where: string, e: Error & { code?: string }): NcluError {
  if (e instanceof NcluError) return e;
  if (e.code !== undefined && TLS_TRUST_CODES.has(e.code))
    return new NcluError(
      "ERR_NCLU_TLS",
      `${where}: certificate not trusted (${e.message}): give its CA with --ca FILE, or --insecure to skip the check`,
    );
  const why = e.code === "ECONNREFUSED" ? "connection refused" : e.code === "ENOTFOUND" ? "unknown host" : e.message;
  return new NcluError("ERR_NCLU_CONNECT", `cannot reach ${where}: ${why}`);
}

/** Asks the switch for its dynamically learned MACs; rejects with an NcluError. */
export function ncluBridgeMacs(o: NcluOptions): Promise<unknown[]> {
  const url = ncluRpcUrl(o.url);
  const where = `NCLU at ${url.origin}`;
  const auth = basicAuth(o.user, o.passwordFile);
  const ca = o.ca === undefined ? undefined : readText(o.ca, "CA file");
  const body = JSON.stringify({ cmd: NCLU_COMMAND });
  const timeoutMs = o.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const headers: Record<string, string | number> = {
    "content-type": "application/json",
    accept: "application/json",
    "content-length": Buffer.byteLength(body),
  };
  if (auth !== undefined) headers["authorization"] = auth;
  const tls = url.protocol === "https:" ? { ...(ca !== undefined ? { ca } : {}), rejectUnauthorized: !o.insecure } : {};
  return new Promise((resolve, reject) => {
    const req = (url.protocol === "https:" ? https : http).request(
      url,
      { method: "POST", headers, timeout: timeoutMs, ...tls },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on("data", (b: Buffer) => {
          size += b.length;
          if (size > MAX_ANSWER_BYTES) req.destroy(new NcluError("ERR_NCLU_ANSWER", `${where}: answer too large`));
          else chunks.push(b);
        });
        res.on("error", (e) => reject(connectError(where, e)));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          const status = res.statusCode ?? 0;
          if (status === 401 || status === 403)
            return reject(
              new NcluError(
                "ERR_NCLU_AUTH",
                auth === undefined
                  ? `${where} asks for credentials (${status}): give --user and --password-file`
                  : `${where} refused the credentials of ${o.user} (${status})`,
              ),
            );
          if (status < 200 || status > 299)
            return reject(new NcluError("ERR_NCLU_ANSWER", `${where} answered ${status}: ${excerpt(text)}`));
          try {
            resolve(parseNcluAnswer(text, where));
          } catch (e) {
            reject(e as Error);
          }
        });
      },
    );
    req.on("timeout", () =>
      req.destroy(new NcluError("ERR_NCLU_TIMEOUT", `no answer from ${where} within ${timeoutMs / 1000} s`)),
    );
    req.on("error", (e) => reject(connectError(where, e)));
    req.end(body);
  });
}
