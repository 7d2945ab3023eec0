// PortalKit's TypeScript SDK: the generated types of the JSON API
// (src/schema.d.ts, from api/openapi.json by openapi-typescript) behind a
// typed openapi-fetch client, plus what every integrator would otherwise
// write by hand — sign-in, errors as a ProblemError, pages as an async
// iterator, safe retries (an Idempotency-Key on every POST; 429 and 503
// retried after Retry-After) and the notification stream with reconnects.
import createClient, { type Client, type Middleware } from "openapi-fetch";
import type { paths, components } from "./schema.js";

export type { paths, components };
export type Schemas = components["schemas"];

/** A field the portal refused, as RFC 9457 problem details name it. */
export interface FieldError {
  location: string;
  message: string;
}

/** Every non-2xx answer, as a thrown error (RFC 9457 problem details). */
export class ProblemError extends Error {
  readonly status: number;
  readonly type: string;
  readonly title: string;
  readonly detail: string;
  readonly errors: FieldError[];
  readonly requestId: string;
  /** The wait the portal asked for (429, 503), in milliseconds. */
  readonly retryAfterMs: number;

  constructor(status: number, body: Record<string, unknown>, headers: Headers) {
    const detail = String(body.detail ?? body.title ?? `HTTP ${status}`);
    super(`portal: ${status} ${body.title ?? ""}: ${detail}`);
    this.name = "ProblemError";
    this.status = status;
    this.type = String(body.type ?? "about:blank");
    this.title = String(body.title ?? "");
    this.detail = detail;
    this.errors = Array.isArray(body.errors) ? (body.errors as FieldError[]) : [];
    this.requestId = headers.get("X-Request-Id") ?? "";
    this.retryAfterMs = retryAfter(headers);
  }
}

function retryAfter(h: Headers): number {
  const v = h.get("Retry-After");
  if (!v) return 0;
  const s = Number(v);
  if (Number.isFinite(s)) return s * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? 0 : Math.max(0, at - Date.now());
}

/** A fresh random Idempotency-Key (send the same one when retrying). */
export function newIdempotencyKey(): string {
  return crypto.randomUUID();
}

export interface PortalOptions {
  /** An API token (pka_...) or a session token; signIn sets one. */
  token?: string;
  /** Retries of 429 and 503 (default 3; each wait at most 30 s). */
  retries?: number;
  /** The fetch to use (default globalThis.fetch). */
  fetch?: typeof fetch;
}

/** A notification as the stream sends it. */
export interface Notification {
  id: number;
  kind: string;
  title: string;
  body: string;
  urgent: boolean;
  created_at: string;
  /** The person's unread count after this notification. */
  unread: number;
  /** Its place in the person's stream: pass it as lastEventId to resume after it. */
  position: number;
}

export interface StreamOptions {
  /** Resume after this stream position (Notification.position). */
  lastEventId?: number;
  signal?: AbortSignal;
}

/** The PortalKit client: `portal.api` is the typed client of every operation. */
export class Portal {
  readonly api: Client<paths>;
  readonly baseUrl: string;
  token: string;
  private readonly retries: number;
  private readonly fetcher: typeof fetch;

  constructor(baseUrl: string, opts: PortalOptions = {}) {
    this.baseUrl = baseUrl.replace(/\/+$/, "");
    this.token = opts.token ?? "";
    this.retries = opts.retries ?? 3;
    this.fetcher = opts.fetch ?? globalThis.fetch.bind(globalThis);
    this.api = createClient<paths>({ baseUrl: this.baseUrl, fetch: (req) => this.send(req) });
    this.api.use(this.problems());
  }

  /** Signs in with a password; later calls carry the session token. */
  async signIn(org: string, email: string, password: string): Promise<void> {
    const { data } = await this.api.POST("/api/v1/auth/login", { body: { org, email, password } });
    if (!data?.token) throw new Error("portal: sign-in answered without a token");
    this.token = data.token;
  }

  /** Ends the session in use and forgets its token. */
  async signOut(): Promise<void> {
    await this.api.POST("/api/v1/auth/logout", {});
    this.token = "";
  }

  // send adds the token and an Idempotency-Key to every POST (the same on
  // each retry, so a retried call never acts twice) and retries 429/503.
  private async send(req: Request): Promise<Response> {
    const headers = new Headers(req.headers);
    if (this.token && !headers.has("Authorization")) headers.set("Authorization", `Bearer ${this.token}`);
    if (req.method === "POST" && !headers.has("Idempotency-Key")) headers.set("Idempotency-Key", newIdempotencyKey());
    const body = req.body ? await req.arrayBuffer() : undefined;
    for (let attempt = 0; ; attempt++) {
      const res = await this.fetcher(new Request(req.url, { method: req.method, headers, body, signal: req.signal }));
      if ((res.status !== 429 && res.status !== 503) || attempt >= this.retries) return res;
      const wait = Math.min(retryAfter(res.headers) || 1000, 30_000);
      await res.body?.cancel();
      await new Promise((r) => setTimeout(r, wait));
    }
  }

  // problems turns every non-2xx answer into a thrown ProblemError.
  private problems(): Middleware {
    return {
      async onResponse({ response }) {
        if (response.ok) return undefined;
        let body: Record<string, unknown> = {};
        try {
          body = (await response.clone().json()) as Record<string, unknown>;
        } catch {
          body = { title: response.statusText };
        }
        throw new ProblemError(response.status, body, response.headers);
      },
    };
  }

  /**
   * Walks a paginated list: `fetchPage(cursor)` returns one page's items and
   * the next cursor ("" at the end).
   */
  async *pages<T>(fetchPage: (cursor: string) => Promise<{ items: T[]; next: string }>): AsyncGenerator<T> {
    let cursor = "";
    do {
      const page = await fetchPage(cursor);
      yield* page.items;
      cursor = page.next;
    } while (cursor);
  }

  /**
   * The person's notifications as they arrive (the SSE stream), reconnecting
   * with Last-Event-ID so nothing is missed or repeated; ends when the
   * signal aborts.
   */
  async *notifications(opts: StreamOptions = {}): AsyncGenerator<Notification> {
    let last = opts.lastEventId ?? 0;
    let delay = 500;
    while (!opts.signal?.aborted) {
      const headers: Record<string, string> = { Accept: "text/event-stream" };
      if (this.token) headers.Authorization = `Bearer ${this.token}`;
      if (last > 0) headers["Last-Event-ID"] = String(last);
      let res: Response;
      try {
        res = await this.fetcher(`${this.baseUrl}/api/v1/notifications/stream`, { headers, signal: opts.signal });
      } catch (e) {
        if (opts.signal?.aborted) return;
        await new Promise((r) => setTimeout(r, delay));
        delay = Math.min(delay * 2, 30_000);
        continue;
      }
      if (!res.ok || !res.body) {
        let body: Record<string, unknown> = {};
        try {
          body = (await res.json()) as Record<string, unknown>;
        } catch {
          body = { title: res.statusText };
        }
        const p = new ProblemError(res.status, body, res.headers);
        if (res.status !== 429 && res.status !== 503) throw p;
        await new Promise((r) => setTimeout(r, Math.min(p.retryAfterMs || delay, 30_000)));
        continue;
      }
      delay = 500;
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      let buf = "";
      let id = "";
      let event = "";
      let data = "";
      try {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buf += value;
          let nl: number;
          while ((nl = buf.indexOf("\n")) >= 0) {
            const line = buf.slice(0, nl).replace(/\r$/, "");
            buf = buf.slice(nl + 1);
            if (line === "") {
              const pos = Number(id) || 0;
              if (event === "notification" && data) {
                const n = JSON.parse(data) as Notification;
                n.position = pos;
                if (pos > last) last = pos;
                yield n;
              } else if (pos > last) {
                last = pos;
              }
              id = event = data = "";
            } else if (line.startsWith("id:")) id = line.slice(3).trim();
            else if (line.startsWith("event:")) event = line.slice(6).trim();
            else if (line.startsWith("data:")) data += line.slice(5).trim();
          }
        }
      } catch (e) {
        if (opts.signal?.aborted) return;
      }
    }
  }
}
