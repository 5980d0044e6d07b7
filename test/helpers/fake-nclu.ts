// A stand-in for a Cumulus switch's NCLU HTTP API (`POST /nclu/v1/rpc`, HTTP Basic authentication)
// on 127.0.0.1 over HTTPS, with a self-signed certificate made by openssl for the test. It records
// every request and answers 401 to wrong credentials, else what `answer` says.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import https from "node:https";
import type { IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";

export interface NcluRequest {
  method: string | undefined;
  url: string | undefined;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface FakeNclu {
  /** https://127.0.0.1:<port> */
  url: string;
  /** The server's certificate (PEM), to pass as --ca. */
  certFile: string;
  requests: NcluRequest[];
  /** The answer to an authenticated request. */
  answer: { status: number; body: string };
  close(): Promise<void>;
}

/** Makes a self-signed certificate for 127.0.0.1 in `dir` and starts the server. */
export async function startFakeNclu(dir: string, user: string, password: string): Promise<FakeNclu> {
  const certFile = join(dir, "nclu-cert.pem");
  const keyFile = join(dir, "nclu-key.pem");
  execFileSync(
    "openssl",
    [
      ...["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"],
      ...["-keyout", keyFile, "-out", certFile, "-days", "1", "-subj", "/CN=127.0.0.1"],
      ...["-addext", "subjectAltName=IP:127.0.0.1"],
    ],
    { stdio: "ignore" },
  );
  const expected = `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;
  const fake: FakeNclu = {
    url: "",
    certFile,
    requests: [],
    answer: { status: 200, body: "[]" },
    close: () => new Promise((r) => server.close(() => r())),
  };
  const server = https.createServer({ key: readFileSync(keyFile), cert: readFileSync(certFile) }, (req, res) => {
    let body = "";
    req.on("data", (b: Buffer) => (body += b.toString()));
    req.on("end", () => {
      fake.requests.push({ method: req.method, url: req.url, headers: req.headers, body });
      const ok = req.headers.authorization === expected;
      res.writeHead(ok ? fake.answer.status : 401, {
        "content-type": "application/json",
        ...(ok ? {} : { "www-authenticate": 'Basic realm="nclu"' }),
      });
      res.end(ok ? fake.answer.body : '{"message": "Unauthorized"}');
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  fake.url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return fake;
}
