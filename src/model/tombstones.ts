// Tombstones of forgotten users: a keyed hash (HMAC-SHA-256, truncated to 128 bits) of the user id and
// the request time. They hold no user id, yet let a late interaction of that user (occurredAt ≤ the
// request time) be recognised and dropped. They expire after a retention.

import { createHmac } from 'node:crypto';

export class Tombstones {
  private readonly byHash = new Map<string, number>();

  constructor(
    private readonly key: string,
    readonly retentionMs: number,
  ) {}

  get size(): number {
    return this.byHash.size;
  }

  private hash(userId: string): string {
    return createHmac('sha256', this.key).update(userId).digest('base64url').slice(0, 22);
  }

  /** The latest request time recorded for the user, if any. */
  requestedAt(userId: string): number | undefined {
    return this.byHash.size === 0 ? undefined : this.byHash.get(this.hash(userId));
  }

  record(userId: string, requestedAt: number): void {
    const h = this.hash(userId);
    const prev = this.byHash.get(h);
    if (prev === undefined || requestedAt > prev) this.byHash.set(h, requestedAt);
  }

  /** Drops tombstones whose request time is older than now - retention; returns how many. */
  expire(nowMs: number): number {
    let dropped = 0;
    for (const [h, t] of this.byHash) {
      if (t + this.retentionMs <= nowMs) {
        this.byHash.delete(h);
        dropped++;
      }
    }
    return dropped;
  }

  isExpired(requestedAt: number, nowMs: number): boolean {
    return requestedAt + this.retentionMs <= nowMs;
  }

  entries(): IterableIterator<[string, number]> {
    return this.byHash.entries();
  }

  restore(entries: Iterable<readonly [string, number]>): void {
    this.byHash.clear();
    for (const [h, t] of entries) this.byHash.set(h, t);
  }
}
