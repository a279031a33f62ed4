// The browser host's gatekeeping, as pure functions: the per-run token, the Host check (DNS
// rebinding), the Origin check (cross-site WebSocket hijacking) and the page's CSP.

import * as crypto from "node:crypto";
import * as os from "node:os";
import { TOKEN_COOKIE_PREFIX, TOKEN_PARAM } from "../protocol/channels";

/** A fresh per-run token: 32 random bytes, base64url. */
export function newToken(): string {
  return crypto.randomBytes(32).toString("base64url");
}

/** Constant-time comparison (hashing first makes the lengths equal). */
export function tokenMatches(candidate: string | null | undefined, token: string): boolean {
  if (typeof candidate !== "string" || candidate.length === 0 || candidate.length > 1024) return false;
  const a = crypto.createHash("sha256").update(candidate).digest();
  const b = crypto.createHash("sha256").update(token).digest();
  return crypto.timingSafeEqual(a, b);
}

export function cookieName(port: number): string {
  return `${TOKEN_COOKIE_PREFIX}${port}`;
}

/** The token a request carries: `?token=` in its URL, else the cookie. */
export function requestTokens(rawUrl: string, cookieHeader: string | undefined, port: number): string[] {
  const out: string[] = [];
  const q = rawUrl.indexOf("?");
  if (q >= 0) {
    const v = new URLSearchParams(rawUrl.slice(q + 1)).get(TOKEN_PARAM);
    if (v) out.push(v);
  }
  const c = readCookie(cookieHeader, cookieName(port));
  if (c) out.push(c);
  return out;
}

function readCookie(header: string | undefined, name: string): string | null {
  if (!header) return null;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return null;
}

function isLoopback(host: string): boolean {
  return host === "127.0.0.1" || host === "::1" || host === "localhost" || /^127\.\d+\.\d+\.\d+$/.test(host);
}

function isUnspecified(host: string): boolean {
  return host === "0.0.0.0" || host === "::" || host === "";
}

export function isLoopbackHost(host: string): boolean {
  return isLoopback(host);
}

/** `host:port` as it appears in a Host header / URL (IPv6 in brackets). */
export function hostPort(host: string, port: number): string {
  return `${host.includes(":") ? `[${host}]` : host}:${port}`;
}

/**
 * The Host header values this server answers to: 127.0.0.1, localhost and the bound address,
 * with the port. Bound to every interface (0.0.0.0 / ::), also the machine's addresses and name.
 */
export function allowedHosts(boundHost: string, port: number): Set<string> {
  const names = new Set<string>(["127.0.0.1", "localhost", "::1"]);
  if (isUnspecified(boundHost)) {
    for (const list of Object.values(os.networkInterfaces())) {
      for (const a of list ?? []) names.add(a.address.split("%")[0]!);
    }
    names.add(os.hostname().toLowerCase());
  } else {
    names.add(boundHost.toLowerCase());
  }
  return new Set([...names].map((n) => hostPort(n, port)));
}

export function hostAllowed(hostHeader: string | undefined, allowed: Set<string>): boolean {
  return typeof hostHeader === "string" && allowed.has(hostHeader.toLowerCase());
}

/**
 * The Origin must be this server's own (http://<an allowed host>). A missing Origin is allowed:
 * browsers always send one on WebSocket upgrades and cross-origin requests, so a missing one is
 * a non-browser client, which still needs the token.
 */
export function originAllowed(origin: string | undefined, allowed: Set<string>): boolean {
  if (origin === undefined) return true;
  const prefix = "http://";
  if (!origin.startsWith(prefix)) return false;
  return allowed.has(origin.slice(prefix.length).toLowerCase());
}

/** The page's Content-Security-Policy, for a page served as http://<hostHeader>. */
export function contentSecurityPolicy(hostHeader: string): string {
  return [
    "default-src 'self'",
    `connect-src 'self' ws://${hostHeader}`,
    "img-src 'self' data:",
    "style-src 'self'",
    "script-src 'self'",
    "frame-ancestors 'none'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
  ].join("; ");
}
