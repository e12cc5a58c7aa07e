import type { OrgRole, PrismaClient } from '@cic/db';
import { AppError } from '@cic/core/errors';
import type { Logger } from '@cic/core/logger';
import type { Viewer } from '@cic/core/auth/viewer';

export interface LiveAuthorizationOptions {
  prisma: PrismaClient;
  log: Logger;
  /**
   * How long a user's platform-admin flag and roles are trusted between two events, in ms.
   * @defaultValue 5000
   */
  ttlMs?: number;
}

/** What a subscription needs to keep receiving events. */
export type LiveCheck = { platformAdmin: true } | { orgMember: string };

interface UserFacts {
  isPlatformAdmin: boolean;
  roles: Map<string, OrgRole>;
  fetchedAt: number;
}

/**
 * Re-checks, per delivered event, that a subscriber is still allowed: its key not revoked, its session
 * token not expired, its user still admin/member (cached for `ttlMs`, shared by all subscriptions of a
 * user so 1,000 subscribers do not mean 1,000 queries per event). Revocations arrive through
 * `keyChanged()` (fed by the apiKeyChanged topic) and notify listeners at once, so sockets close;
 * `resync()` re-checks the keys of live streams after the topic bus lost its connection.
 */
export class LiveAuthorization {
  readonly #prisma: PrismaClient;
  readonly #log: Logger;
  readonly #ttlMs: number;
  readonly #users = new Map<string, Promise<UserFacts>>();
  readonly #revokedKeys = new Set<string>();
  /** Keys live streams were made with, and how many streams each. */
  readonly #watchedKeys = new Map<string, number>();
  readonly #revocationListeners = new Set<(keyId: string) => void>();
  readonly #shutdownListeners = new Set<() => void>();
  #shuttingDown = false;

  constructor({ prisma, log, ttlMs = 5_000 }: LiveAuthorizationOptions) {
    this.#prisma = prisma;
    this.#log = log;
    this.#ttlMs = ttlMs;
  }

  /** Throws UNAUTHENTICATED/FORBIDDEN when the viewer may no longer receive this subscription's events. */
  async assertAllowed(viewer: Viewer, check: LiveCheck): Promise<void> {
    if (viewer.kind === 'anonymous') throw new AppError('UNAUTHENTICATED', 'Authenticate to subscribe.');
    if (viewer.kind === 'apiKey') {
      if (this.#revokedKeys.has(viewer.keyId)) throw new AppError('UNAUTHENTICATED', 'This API key has been revoked.', { detail: 'invalid_api_key' });
      if ('platformAdmin' in check || check.orgMember !== viewer.organizationId) throw new AppError('FORBIDDEN', 'Not allowed for this API key.');
      return;
    }
    if (viewer.expiresAt.getTime() <= Date.now()) throw new AppError('UNAUTHENTICATED', 'The session token has expired; reconnect with a fresh one.', { detail: 'token_expired' });
    const facts = await this.#userFacts(viewer.userId);
    const allowed = 'platformAdmin' in check ? facts.isPlatformAdmin : facts.isPlatformAdmin || facts.roles.has(check.orgMember);
    if (!allowed) throw new AppError('FORBIDDEN', 'You are no longer allowed to receive these events.');
  }

  /** Called for every apiKeyChanged event: remembers revoked keys and tells listeners (sockets to close). */
  async keyChanged(keyId: string): Promise<void> {
    const key = await this.#prisma.apiKey.findUnique({ where: { id: keyId }, select: { revokedAt: true } });
    if (key && !key.revokedAt) return;
    this.#revoke(keyId);
  }

  /** After a pub/sub gap: re-checks, in one query, every key a live stream uses (its apiKeyChanged may be lost). */
  async resync(): Promise<void> {
    const watched = [...this.#watchedKeys.keys()];
    if (watched.length === 0) return;
    const valid = await this.#prisma.apiKey.findMany({ where: { id: { in: watched }, revokedAt: null }, select: { id: true } });
    const stillValid = new Set(valid.map((k) => k.id));
    for (const keyId of watched) if (!stillValid.has(keyId)) this.#revoke(keyId);
  }

  /** Counts a live stream made with `keyId`, so `resync()` re-checks the key; returns the release function (call it once). */
  watchKey(keyId: string): () => void {
    this.#watchedKeys.set(keyId, (this.#watchedKeys.get(keyId) ?? 0) + 1);
    return () => {
      const left = this.#watchedKeys.get(keyId)! - 1;
      if (left > 0) this.#watchedKeys.set(keyId, left);
      else this.#watchedKeys.delete(keyId);
    };
  }

  #revoke(keyId: string): void {
    this.#revokedKeys.add(keyId);
    for (const listener of this.#revocationListeners) {
      try {
        listener(keyId);
      } catch (err) {
        this.#log.warn({ err, keyId }, 'revocation listener failed');
      }
    }
  }

  isRevoked(keyId: string): boolean {
    return this.#revokedKeys.has(keyId);
  }

  /** Ends every guarded subscription (SSE streams included), so a graceful shutdown does not wait on them. */
  shutdown(): void {
    this.#shuttingDown = true;
    for (const listener of this.#shutdownListeners) listener();
  }

  /** Called once at shutdown (at once if it already began); returns the unsubscribe function. */
  onShutdown(listener: () => void): () => void {
    if (this.#shuttingDown) listener();
    this.#shutdownListeners.add(listener);
    return () => this.#shutdownListeners.delete(listener);
  }

  /** Subscribes to key revocations; returns the unsubscribe function. */
  onKeyRevoked(listener: (keyId: string) => void): () => void {
    this.#revocationListeners.add(listener);
    return () => this.#revocationListeners.delete(listener);
  }

  #userFacts(userId: string): Promise<UserFacts> {
    const cached = this.#users.get(userId);
    if (cached) return cached;
    const pending = this.#prisma.user
      .findUnique({ where: { id: userId }, select: { isPlatformAdmin: true, memberships: { select: { organizationId: true, role: true } } } })
      .then((u) => ({
        isPlatformAdmin: u?.isPlatformAdmin ?? false,
        roles: new Map((u?.memberships ?? []).map((m) => [m.organizationId, m.role] as const)),
        fetchedAt: Date.now(),
      }));
    this.#users.set(userId, pending);
    // Concurrent subscribers of one user share the lookup; it is forgotten after the TTL.
    setTimeout(() => this.#users.delete(userId), this.#ttlMs).unref();
    pending.catch(() => this.#users.delete(userId));
    return pending;
  }
}
