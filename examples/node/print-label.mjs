#!/usr/bin/env node
// printdock REST API from Node.js (18+, built-in fetch): issue a print client secret, submit a ZPL label,
// poll the job until it is printed, and cancel a job that is still queued. See docs/integration.md.
//
// Environment: PRINTDOCK_URL (default http://127.0.0.1:8080), PRINTDOCK_API_KEY (pdu_… or pdt_…, required),
// PRINTDOCK_PRINTER (printer name, required), PRINTDOCK_SECRET_FILE (default ./print-client-secret.txt),
// PRINTDOCK_OFFLINE_PRINTER (a printer whose agent is offline, optional), PRINTDOCK_LABEL (ZPL file).
import { readFile, rename, writeFile } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";

const env = process.env;
const url = (env.PRINTDOCK_URL ?? "http://127.0.0.1:8080").replace(/\/$/, "");
const apiKey = required("PRINTDOCK_API_KEY");
const printerName = required("PRINTDOCK_PRINTER");
const secretFile = env.PRINTDOCK_SECRET_FILE ?? "print-client-secret.txt";
const labelFile = env.PRINTDOCK_LABEL ?? new URL("../label.zpl", import.meta.url);
const terminal = new Set(["done", "failed", "cancelled", "expired"]);

function required(name) {
  if (!env[name]) throw new Error(`set ${name}`);
  return env[name];
}

// An error answer: {"error":{"code","message"}}.
class APIError extends Error {
  constructor(status, code, message) {
    super(`HTTP ${status} ${code}: ${message}`);
    this.status = status;
    this.code = code;
  }
}

// api calls the API and returns the decoded JSON answer; it throws APIError on an error answer.
async function api(method, path, body) {
  const resp = await fetch(url + path, {
    method,
    headers: { Authorization: `Bearer ${apiKey}`, "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await resp.text();
  if (!resp.ok) {
    let err = { code: "http_error", message: resp.statusText };
    try {
      err = JSON.parse(text).error ?? err;
    } catch {}
    throw new APIError(resp.status, err.code, err.message);
  }
  return text ? JSON.parse(text) : null;
}

// printerID returns the ID of the printer called name (waiting until it is online when asked).
async function printerID(name, online = false) {
  for (const deadline = Date.now() + 120_000; Date.now() < deadline; await sleep(500)) {
    const { items } = await api("GET", "/api/v1/printers");
    const p = items.find((p) => p.name === name && (p.online || !online));
    if (p) return p.id;
  }
  throw new Error(`printer ${name} not found${online ? " online" : ""}`);
}

function submit(printer, content, title, idempotencyKey) {
  return api("POST", `/api/v1/printers/${printer}/jobs`, {
    content_type: "raw",
    content_base64: content.toString("base64"),
    title,
    ...(idempotencyKey && { idempotency_key: idempotencyKey }),
  });
}

async function main() {
  // 1. Issue a print client secret for a new agent installation. The answer is the only time the secret
  //    is shown: keep it (here: a file only you can read) and install the agent with it.
  const key = await api("POST", "/api/v1/print-client-secrets", { description: "packing desk 1 (Node.js example)" });
  await writeFile(secretFile + ".tmp", key.secret + "\n", { mode: 0o600 });
  await rename(secretFile + ".tmp", secretFile);
  console.log(`issued print client secret ${key.id} (${key.prefix}…), written to ${secretFile}`);

  // 2. Submit a ZPL label. The idempotency key makes a retry after a timeout safe: the same key returns
  //    the same job instead of printing twice.
  const label = await readFile(labelFile);
  const printer = await printerID(printerName, true);
  let job = await submit(printer, label, "Order 1042", `order-1042-${Date.now()}-${process.pid}`);
  console.log(`submitted job ${job.id} to ${printerName} (${printer}): ${job.state}`);

  // 3. Poll the job until it is finished: done, failed, cancelled or expired.
  for (const deadline = Date.now() + 120_000; !terminal.has(job.state) && Date.now() < deadline; ) {
    await sleep(500);
    job = await api("GET", `/api/v1/jobs/${job.id}`);
  }
  if (job.state !== "done") throw new Error(`job ${job.id} ${job.state}: ${job.reason ?? ""}`);
  console.log(`job ${job.id} done`);

  // 4. Cancel a job that is still queued (its printer's agent is offline): 200, cancelled. A job already
  //    sent to its agent answers 202 (the agent decides; poll it); printing or finished is 409 conflict.
  if (env.PRINTDOCK_OFFLINE_PRINTER) {
    const queued = await submit(await printerID(env.PRINTDOCK_OFFLINE_PRINTER), label, "Order 1043");
    console.log(`submitted job ${queued.id} to ${env.PRINTDOCK_OFFLINE_PRINTER}: ${queued.state}`);
    try {
      const cancelled = await api("DELETE", `/api/v1/jobs/${queued.id}`);
      console.log(`cancelled job ${queued.id}: ${cancelled.state}`);
    } catch (e) {
      if (!(e instanceof APIError) || e.code !== "conflict") throw e;
      console.log(`job ${queued.id} could not be cancelled any more: ${e.message}`);
    }
  }
}

main().catch((e) => {
  console.error(e.message);
  process.exit(1);
});
