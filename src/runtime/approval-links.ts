/**
 * Approval links: signed, single-use, expiring approve and reject links for a waiting approval,
 * which a person opens without AWS credentials.
 *
 * A link's token is `v1.<payload>.<mac>` (base64url parts): the payload is JSON with the workflow
 * id (`w`), the approval's callback id (`c`), the decision (`d`: `approve` or `reject`), the
 * expiry in epoch seconds (`e`) and a random link id (`l`); the MAC is HMAC-SHA256 over
 * `v1.<payload>` with the orchestrator's link key. The token holds no secret: it is only
 * unforgeable. Whoever holds a link may make that one decision, once, before it expires; the API
 * records the link id as the decider and refuses a second use (a conditional write of the id).
 *
 * The key comes from a `LinkKeySource`: a Secrets Manager secret in the cloud (read once per
 * container, then cached), a file of the local server's data folder locally.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'crypto';

/** Where the HMAC key of approval links is read from. */
export interface LinkKeySource {
  /** The key (at least 32 bytes). */
  key(): Promise<Buffer>;
}

/** The decision a link makes. */
export type LinkDecision = 'approve' | 'reject';

/** What a link's token carries. */
export interface LinkClaims {
  readonly workflowId: string;
  readonly callbackId: string;
  readonly decision: LinkDecision;
  /** Epoch seconds after which the link is refused. */
  readonly expiresAt: number;
  readonly linkId: string;
}

/** The pair of links issued for one approval. */
export interface IssuedLinks {
  readonly approve: string;
  readonly reject: string;
  /** ISO time after which both are refused. */
  readonly expiresAt: string;
}

/** Why a token is refused before anything is looked up. */
export type TokenProblem = 'malformed' | 'forged' | 'expired';

/** The outcome of checking a token: its claims, or why it is refused. */
export type TokenCheck =
  | { readonly ok: true; readonly claims: LinkClaims }
  | { readonly ok: false; readonly problem: TokenProblem; readonly message: string; readonly claims?: LinkClaims };

const VERSION = 'v1';
/** Shortest key accepted (HMAC-SHA256's block is 64 bytes; its output 32). */
export const MIN_KEY_BYTES = 32;
/** Longest token accepted in a path. */
export const MAX_TOKEN_LENGTH = 1024;
/** Link ids: 128 random bits, base64url. */
export const LINK_ID_PATTERN = /^lk-[A-Za-z0-9_-]{22}$/;

function mac(key: Buffer, signed: string): Buffer {
  return createHmac('sha256', key).update(signed, 'utf8').digest();
}

/** A new random link id. */
export function newLinkId(): string {
  return `lk-${randomBytes(16).toString('base64url')}`;
}

/** Signs the claims into a token. */
export function signLinkToken(key: Buffer, claims: LinkClaims): string {
  checkKey(key);
  const payload = Buffer.from(JSON.stringify({
    w: claims.workflowId, c: claims.callbackId, d: claims.decision, e: claims.expiresAt, l: claims.linkId,
  }), 'utf8').toString('base64url');
  const signed = `${VERSION}.${payload}`;
  return `${signed}.${mac(key, signed).toString('base64url')}`;
}

/**
 * Checks a token: its shape, its MAC (in constant time), then its expiry. A token whose MAC does
 * not match is `forged` whatever its payload says (its claims are not returned).
 */
export function verifyLinkToken(key: Buffer, token: string, nowMs: number = Date.now()): TokenCheck {
  checkKey(key);
  const malformed = (detail: string): TokenCheck => ({
    ok: false, problem: 'malformed', message: `this approval link is not valid (${detail}); open the link exactly as it was sent`,
  });
  if (token.length > MAX_TOKEN_LENGTH) return malformed('it is too long');
  const parts = token.split('.');
  if (parts.length !== 3 || parts[0] !== VERSION || !/^[A-Za-z0-9_-]+$/.test(parts[1]) || !/^[A-Za-z0-9_-]{43}$/.test(parts[2])) {
    return malformed('it is not a link token of this orchestrator');
  }
  const expected = mac(key, `${parts[0]}.${parts[1]}`);
  const given = Buffer.from(parts[2], 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return { ok: false, problem: 'forged', message: 'this approval link was not issued by this orchestrator, or it was altered (its signature does not match)' };
  }
  let raw: unknown;
  try {
    raw = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
  } catch {
    return malformed('its payload is not JSON');
  }
  const p = raw as Record<string, unknown>;
  if (raw === null || typeof raw !== 'object' || typeof p.w !== 'string' || typeof p.c !== 'string'
    || (p.d !== 'approve' && p.d !== 'reject') || typeof p.e !== 'number' || typeof p.l !== 'string') {
    return malformed('its payload lacks a field');
  }
  const claims: LinkClaims = { workflowId: p.w, callbackId: p.c, decision: p.d, expiresAt: p.e, linkId: p.l };
  if (nowMs >= claims.expiresAt * 1000) {
    return {
      ok: false,
      problem: 'expired',
      message: `this approval link expired at ${new Date(claims.expiresAt * 1000).toISOString()}; decide through the API or ask for a new link`,
      claims,
    };
  }
  return { ok: true, claims };
}

function checkKey(key: Buffer): void {
  if (key.length < MIN_KEY_BYTES) throw new Error(`the approval link key has ${key.length} bytes; at least ${MIN_KEY_BYTES} are required`);
}

export interface ApprovalLinkIssuerOptions {
  readonly keys: LinkKeySource;
  /** Base URL of the API (`{baseUrl}/approvals/{token}`). */
  readonly baseUrl: string;
  /** Seconds a link stays valid (never past the approval's own deadline). */
  readonly expirySeconds: number;
}

/** Issues the approve and reject links of an approval (the controller, inside a durable step). */
export class ApprovalLinkIssuer {
  constructor(private readonly options: ApprovalLinkIssuerOptions) {
    if (!Number.isInteger(options.expirySeconds) || options.expirySeconds < 1) {
      throw new Error(`approval link expiry must be a whole number of seconds >= 1, got ${options.expirySeconds}`);
    }
  }

  /** Signs the two links of the approval `callbackId` of `workflowId`; they expire at `deadline` at the latest. */
  public async issue(workflowId: string, callbackId: string, deadline: string, nowMs: number = Date.now()): Promise<IssuedLinks> {
    const key = await this.options.keys.key();
    const until = Math.min(Math.floor(nowMs / 1000) + this.options.expirySeconds, Math.floor(Date.parse(deadline) / 1000));
    const base = this.options.baseUrl.replace(/\/+$/, '');
    const link = (decision: LinkDecision) =>
      `${base}/approvals/${signLinkToken(key, { workflowId, callbackId, decision, expiresAt: until, linkId: newLinkId() })}`;
    return { approve: link('approve'), reject: link('reject'), expiresAt: new Date(until * 1000).toISOString() };
  }
}

/** A key source that reads once and keeps the key for `ttlMs` (a rotated secret is seen after that). */
export class CachedLinkKey implements LinkKeySource {
  private cached?: { key: Buffer; until: number };
  private pending?: Promise<Buffer>;

  constructor(private readonly read: () => Promise<Buffer>, private readonly ttlMs = 5 * 60_000) {}

  public async key(): Promise<Buffer> {
    if (this.cached && Date.now() < this.cached.until) return this.cached.key;
    this.pending ??= this.read().then((key) => {
      checkKey(key);
      this.cached = { key, until: Date.now() + this.ttlMs };
      return key;
    }).finally(() => {
      this.pending = undefined;
    });
    return this.pending;
  }
}

/** The key in a secret string: the UTF-8 bytes of the string (a generated secret of 64 characters). */
export function keyFromSecretString(secret: string | undefined, secretId: string): Buffer {
  if (!secret) throw new Error(`secret ${secretId} has no SecretString; the approval link key is the secret's string (the construct generates it)`);
  const key = Buffer.from(secret, 'utf8');
  if (key.length < MIN_KEY_BYTES) throw new Error(`secret ${secretId} holds ${key.length} bytes; the approval link key needs at least ${MIN_KEY_BYTES}`);
  return key;
}
