// The SDK against a running portal with the demo data (PORTAL_URL; the Go
// test e2e/api TestTypeScriptSDK starts one and runs this with node --test).
import { test } from "node:test";
import assert from "node:assert/strict";
import { Portal, ProblemError, newIdempotencyKey } from "../dist/index.js";

const base = process.env.PORTAL_URL;
const password = process.env.PORTAL_DEMO_PASSWORD;
if (!base || !password) throw new Error("set PORTAL_URL and PORTAL_DEMO_PASSWORD (e2e/api TestTypeScriptSDK does)");

async function signedIn(email) {
  const p = new Portal(base);
  await p.signIn("demo", email, password);
  return p;
}

async function accounts(p) {
  const { data } = await p.api.GET("/api/v1/banking/accounts");
  const cur = data.accounts.find((a) => a.kind === "current");
  const sav = data.accounts.find((a) => a.kind === "savings");
  assert.ok(cur && sav, "the demo customer has a current and a savings account");
  return { cur, sav };
}

test("signs in and reads who it is", async () => {
  const p = await signedIn("customer@demo.example");
  const { data } = await p.api.GET("/api/v1/me");
  assert.equal(data.user.email, "customer@demo.example");
});

test("a wrong password is a 401 ProblemError", async () => {
  const p = new Portal(base);
  await assert.rejects(p.signIn("demo", "customer@demo.example", "not-the-password"), (e) => e instanceof ProblemError && e.status === 401);
});

test("a retried transfer moves money once", async () => {
  const p = await signedIn("customer@demo.example");
  const { cur, sav } = await accounts(p);
  const key = newIdempotencyKey();
  for (let i = 0; i < 2; i++) {
    await p.api.POST("/api/v1/banking/accounts/{id}/transfers", {
      params: { path: { id: cur.id }, header: { "Idempotency-Key": key } },
      body: { to_account_id: sav.id, amount_minor: 700, reference: "ts-sdk" },
    });
  }
  const after = await accounts(p);
  assert.equal(after.sav.balance_minor, sav.balance_minor + 700);
  assert.equal(after.cur.balance_minor, cur.balance_minor - 700);
});

test("problems carry status, type and the offending fields", async () => {
  const p = await signedIn("customer@demo.example");
  const { cur, sav } = await accounts(p);
  await assert.rejects(
    p.api.POST("/api/v1/banking/accounts/{id}/transfers", { params: { path: { id: cur.id } }, body: { to_account_id: sav.id, amount_minor: 0 } }),
    (e) => e instanceof ProblemError && e.status === 422 && e.errors.some((f) => f.location === "body.amount_minor"),
  );
  await assert.rejects(
    p.api.POST("/api/v1/banking/accounts/{id}/transfers", { params: { path: { id: cur.id } }, body: { to_account_id: sav.id, amount_minor: 1e12 } }),
    (e) => e instanceof ProblemError && e.status === 409,
  );
  const other = await signedIn("customer2@demo.example");
  await assert.rejects(
    other.api.GET("/api/v1/banking/accounts/{id}", { params: { path: { id: cur.id } } }),
    (e) => e instanceof ProblemError && e.status === 404 && e.type.endsWith("not_found"),
  );
});

test("notifications arrive on the stream, and a reconnect resumes after the last one", async () => {
  const p = await signedIn("customer2@demo.example");
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(), 20_000);
  const stream = p.notifications({ signal: ctl.signal });
  const first = stream.next();
  await new Promise((r) => setTimeout(r, 300)); // the stream is open
  await p.api.POST("/api/v1/notifications/test", { body: { message: "ts one" } });
  const one = (await first).value;
  assert.ok(one && one.position > 0, "the first notification arrived");
  ctl.abort();
  await p.api.POST("/api/v1/notifications/test", { body: { message: "ts two" } });
  const ctl2 = new AbortController();
  const timer2 = setTimeout(() => ctl2.abort(), 20_000);
  const resumed = p.notifications({ lastEventId: one.position, signal: ctl2.signal });
  const two = (await resumed.next()).value;
  ctl2.abort();
  clearTimeout(timer);
  clearTimeout(timer2);
  assert.ok(two && two.position > one.position, "the one sent while away arrived after the reconnect");
  assert.notEqual(two.id, one.id);
});
