// A printdock webhook receiver (Node.js 18+, built-in http and crypto only).
//
// It verifies every delivery's Standard Webhooks signature (webhook-id, webhook-timestamp,
// webhook-signature: "v1," + base64 HMAC-SHA256 of "<id>.<timestamp>.<body>" keyed with the base64 part of
// the whsec_ secret), refuses old or future timestamps (replays), answers 204 to a verified delivery and
// 401 otherwise, and prints one line per verified event. Deliveries are retried until they are answered
// 2xx; webhook-id is the same for every attempt, so a receiver that must act once keeps the ids it handled.
//
//   PRINTDOCK_WEBHOOK_SECRET=whsec_… PRINTDOCK_WEBHOOK_LISTEN=127.0.0.1:8099 node webhook-receiver.mjs
import { createHmac, timingSafeEqual } from "node:crypto";
import { createServer } from "node:http";

const TOLERANCE = 5 * 60; // seconds

export function verify(secret, headers, body) {
  const id = headers["webhook-id"], ts = headers["webhook-timestamp"], sigs = headers["webhook-signature"];
  if (!id || !ts || !sigs) return null;
  if (!/^\d+$/.test(ts) || Math.abs(Date.now() / 1000 - Number(ts)) > TOLERANCE) return null;
  const key = Buffer.from(secret.replace(/^whsec_/, ""), "base64");
  const expected = createHmac("sha256", key).update(`${id}.${ts}.`).update(body).digest();
  for (const sig of sigs.split(" ")) { // several signatures while a secret is being rotated
    const [version, value] = sig.split(",", 2);
    const got = Buffer.from(value ?? "", "base64");
    if (version === "v1" && got.length === expected.length && timingSafeEqual(got, expected)) {
      return JSON.parse(body.toString("utf8"));
    }
  }
  return null;
}

const [host, port] = (process.env.PRINTDOCK_WEBHOOK_LISTEN ?? "127.0.0.1:8099").split(/:(?=\d+$)/);
const server = createServer((req, res) => {
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", () => {
    const event = verify(process.env.PRINTDOCK_WEBHOOK_SECRET, req.headers, Buffer.concat(chunks));
    if (!event) {
      res.writeHead(401).end();
      return;
    }
    console.log("verified", req.headers["webhook-id"], event.type, JSON.stringify(event.data));
    res.writeHead(204).end();
  });
});
server.listen(Number(port), host, () => console.log("listening on", server.address().port));
