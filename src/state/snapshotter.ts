// When snapshots are taken and what follows them: every SNAPSHOT_INTERVAL_MS and at graceful
// shutdown, the engine hands over a copy of the state at a batch boundary (inside its serial queue:
// every event before the offsets, none after); the copy is encoded and written asynchronously while
// processing goes on. Once a snapshot is durable:
// - if users were forgotten since the previous one, every older file is deleted and a PURGED
//   receipt published per request (the new file is the only one left, and it holds none of them);
// - otherwise the newest SNAPSHOT_RETAIN files are kept.
// At start, the newest valid snapshot is decoded once (preload) so that the engine can seek to its
// offsets as soon as it is assigned the partitions.

import { ConfigError, describeError } from '../errors.js';
import type { Logger } from '../log.js';
import type { ModelState, SimilarityMeasure } from '../model/index.js';
import type { PendingPurge, Snapshot, TopicOffset } from './format.js';
import type { SnapshotFile, SnapshotStore } from './store.js';
import { checkKeyFingerprint, type TombstoneKey } from './tombstone-key.js';

/** How often PURGED receipts waiting for the other replicas' confirmation are tried again. */
const CONFIRM_RETRY_MS = 1_000;

export interface SnapshotStatus {
  readonly lastSuccessMs?: number;
  readonly lastDurationSeconds?: number;
  readonly lastBytes?: number;
  readonly failures: number;
}

/** A capture at a batch boundary: the state, the offsets it reflects, extra snapshot sections. */
export type BoundaryCapture<T> = (
  state: () => ModelState,
  offsets: readonly TopicOffset[],
  sections?: () => Readonly<Record<string, Uint8Array>>,
) => T;

/** What the engine provides: a consistent capture, and receipt publication (both via its queue). */
export interface SnapshotSource {
  /** Runs `take` at a batch boundary (all applied events flushed and published); undefined when not live. */
  atBoundary<T>(take: BoundaryCapture<T>): Promise<T | undefined>;
  publishPurged(purges: readonly PendingPurge[]): Promise<void>;
  /** True once every other running replica has confirmed that it holds no snapshot (PURGED may go out). */
  othersHoldNoSnapshots(): Promise<boolean>;
}

export interface Restored<T> {
  readonly file: SnapshotFile;
  readonly offsets: readonly TopicOffset[];
  readonly value: T;
}

export interface SnapshotterOptions {
  readonly store: SnapshotStore;
  readonly intervalMs: number;
  readonly log: Logger;
  readonly now?: () => number;
  /** The tombstone key: its fingerprint goes into every snapshot; a restore under another is refused. */
  readonly key?: TombstoneKey;
  /** SIMILARITY: a snapshot written under another measure is refused (its lists and bounds are of it). */
  readonly similarity?: SimilarityMeasure;
  /**
   * False while this instance must not write a snapshot: its snapshot-holder lease lapsed, or its
   * role is being checked after that (PURGED may have gone out elsewhere meanwhile). Asked before a
   * write and after it: a snapshot written while it turned false is deleted at once.
   */
  readonly mayWrite?: () => boolean;
}

/**
 * Refuses a snapshot written under another similarity measure (`written` from its header; absent in
 * files older than the setting, which were Jaccard): its lists and top-K bounds hold the other
 * measure's values, and a rebuild must be the operator's choice.
 */
export function checkSimilarity(written: unknown, configured: SimilarityMeasure): void {
  const was = written ?? 'jaccard';
  if (was === configured) return;
  const name = (typeof was === 'string' ? was : JSON.stringify(was)).slice(0, 40);
  throw new ConfigError(
    'SIMILARITY',
    `the snapshots in SNAPSHOT_DIR were written with SIMILARITY=${name}, this instance is configured ` +
      `with SIMILARITY=${configured}: set it back, or move the snapshots away to rebuild from the ` +
      'topics (every list is then published again)',
  );
}

export class Snapshotter {
  private readonly log: Logger;
  private readonly now: () => number;
  private pending: PendingPurge[] = [];
  /** Purged on this disk; PURGED waits for the other replicas' confirmation. */
  private awaiting: PendingPurge[] = [];
  /** Interactions expired since the last snapshot taken (noteExpired). */
  private expired = false;
  private confirmTimer: ReturnType<typeof setTimeout> | undefined;
  private preloaded: { file: SnapshotFile; snapshot: Snapshot } | undefined;
  private source: SnapshotSource | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private inFlight: Promise<void> | undefined;
  private stopped = false;
  private status_: {
    lastSuccessMs?: number;
    lastDurationSeconds?: number;
    lastBytes?: number;
    failures: number;
  } = {
    failures: 0,
  };
  /** The file the last restore loaded (undefined: none, the state was rebuilt from the topics). */
  restoredFrom: string | undefined;
  /** Last write's figures (benchmarks, tests). */
  lastWrite: { bytes: number; durationMs: number; captureMs: number; maxStallMs: number } | undefined;

  constructor(private readonly options: SnapshotterOptions) {
    this.log = options.log.child({ module: 'snapshotter' });
    this.now = options.now ?? Date.now;
  }

  get status(): SnapshotStatus {
    return { ...this.status_ };
  }

  get store(): SnapshotStore {
    return this.options.store;
  }

  /** Prepares the directory and decodes the newest valid snapshot (falling back to older ones). */
  async init(): Promise<void> {
    await this.store.init();
    const found = await this.store.loadNewest((snapshot) => snapshot);
    if (found) {
      this.preloaded = { file: found.file, snapshot: found.value };
      this.status_.lastSuccessMs = found.file.createdAt;
      this.log.info({ file: found.file.name, offsets: found.value.offsets.length }, 'snapshot found');
    } else this.log.info({}, 'no valid snapshot: the state is rebuilt from the input topics');
  }

  /** The offsets the next restore starts from, by topic and partition (synchronous: for the seek at assignment time). */
  plannedOffsets(): ReadonlyMap<string, ReadonlyMap<number, number>> | undefined {
    if (!this.preloaded) return undefined;
    const out = new Map<string, Map<number, number>>();
    for (const o of this.preloaded.snapshot.offsets) {
      let byPartition = out.get(o.topic);
      if (!byPartition) out.set(o.topic, (byPartition = new Map<number, number>()));
      byPartition.set(o.partition, o.offset);
    }
    return out;
  }

  /**
   * The newest usable snapshot, built into a model by `make` (which returns undefined when the file
   * does not fit the configuration). Also resets the pending purges to the ones the file carries:
   * requests after its offsets are replayed, and note themselves again.
   */
  async restore<T>(build: (s: Snapshot) => T | undefined): Promise<Restored<T> | undefined> {
    this.pending = [];
    const pre = this.preloaded;
    this.preloaded = undefined;
    // A snapshot written under another tombstone key or similarity is refused (ConfigError): not set
    // aside as broken, not skipped for an older one (those share the key) — the operator must act.
    const { key, similarity } = this.options;
    const make = (s: Snapshot): T | undefined => {
      if (key) checkKeyFingerprint(s.keyFingerprint, key, this.log);
      if (similarity) checkSimilarity(s.state.settings.similarity, similarity);
      return build(s);
    };
    let found: { file: SnapshotFile; snapshot: Snapshot; value: T } | undefined;
    if (pre) {
      try {
        const value = make(pre.snapshot);
        if (value !== undefined) found = { ...pre, value };
      } catch (e) {
        if (e instanceof ConfigError) throw e;
        this.log.error(
          { file: pre.file.name, err: describeError(e) },
          'preloaded snapshot could not be restored',
        );
      }
    }
    if (!found) {
      let snap: Snapshot | undefined;
      const r = await this.store.loadNewest((s) => {
        snap = s;
        return make(s);
      });
      if (r && snap) found = { file: r.file, snapshot: snap, value: r.value };
    }
    this.restoredFrom = found?.file.name;
    if (!found) return undefined;
    this.pending = [...found.snapshot.purges];
    this.status_.lastSuccessMs ??= found.file.createdAt;
    return { file: found.file, offsets: found.snapshot.offsets, value: found.value };
  }

  /** Forgets the pending PURGED receipts already on the receipts topic (a crash after publishing). */
  dropPending(published: (requestId: string) => boolean): void {
    const before = this.pending.length;
    this.pending = this.pending.filter((p) => !published(p.requestId));
    this.awaiting = this.awaiting.filter((p) => !published(p.requestId));
    if (this.pending.length < before)
      this.log.info(
        { requests: before - this.pending.length },
        'pending PURGED receipts already published: dropped',
      );
  }

  /**
   * INTERACTION_TTL_MS expired interactions: the next durable snapshot deletes every older file (as
   * after a deletion request), so no file keeps them beyond it.
   */
  noteExpired(): void {
    this.expired = true;
  }

  /** A deletion request was applied: its PURGED receipt is due after the next durable snapshot. */
  noteForgotten(p: PendingPurge): void {
    this.pending.push(p);
  }

  /** Starts the interval timer. */
  start(source: SnapshotSource): void {
    this.source = source;
    this.stopped = false;
    this.schedule();
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.snapshotNow().finally(() => this.schedule());
    }, this.options.intervalMs);
    this.timer.unref?.();
  }

  /** Stops the timer and writes a final snapshot (graceful shutdown). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.confirmTimer) clearTimeout(this.confirmTimer);
    this.confirmTimer = undefined;
    await this.inFlight;
    await this.snapshotNow();
  }

  /** A snapshot not written or not purged after: what it was to settle waits for the next one. */
  private putBack(taken: Snapshot, expired: boolean): void {
    this.pending = [...taken.purges, ...this.pending];
    this.expired ||= expired;
  }

  private mayWrite(): boolean {
    return this.options.mayWrite?.() ?? true;
  }

  /** Takes and writes one snapshot (waits for one in flight instead of starting a second). */
  snapshotNow(): Promise<void> {
    this.inFlight ??= this.takeAndWrite().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  private async takeAndWrite(): Promise<void> {
    const source = this.source;
    if (!source) return;
    let captureMs = 0;
    let taken: Snapshot | undefined;
    let expired = false;
    try {
      taken = await source.atBoundary((state, offsets, sections) => {
        const c0 = performance.now();
        const fingerprint = this.options.key?.fingerprint;
        const snapshot: Snapshot = {
          createdAt: this.now(),
          offsets,
          purges: this.pending,
          state: state(),
          ...(fingerprint === undefined ? {} : { keyFingerprint: fingerprint }),
          ...(sections ? { sections: sections() } : {}),
        };
        this.pending = [];
        expired = this.expired;
        this.expired = false;
        captureMs = performance.now() - c0;
        return snapshot;
      });
    } catch (e) {
      this.log.warn(
        { err: describeError(e) },
        'no batch boundary reached for a snapshot (publishing failed)',
      );
      return;
    }
    if (!taken) return;
    if (!this.mayWrite()) {
      this.putBack(taken, expired);
      this.log.warn({}, 'no snapshot written: the snapshot-holder lease is not held');
      return;
    }
    let file: SnapshotFile;
    try {
      const r = await this.store.write(taken);
      file = r.file;
      this.status_ = {
        ...this.status_,
        lastSuccessMs: taken.createdAt,
        lastDurationSeconds: r.durationMs / 1000,
        lastBytes: r.bytes,
      };
      this.lastWrite = { bytes: r.bytes, durationMs: r.durationMs, captureMs, maxStallMs: r.maxStallMs };
      this.log.info(
        {
          file: file.name,
          bytes: r.bytes,
          durationMs: Math.round(r.durationMs),
          captureMs: Math.round(captureMs),
          purges: taken.purges.length,
        },
        'snapshot written',
      );
    } catch (e) {
      this.status_.failures++;
      this.putBack(taken, expired);
      this.log.error({ err: describeError(e) }, 'snapshot failed; the previous snapshots are kept');
      return;
    }
    if (!this.mayWrite()) {
      this.putBack(taken, expired);
      const deleted = await this.store.purgeAll();
      this.log.warn(
        { filesDeleted: deleted },
        'the snapshot-holder lease lapsed during a write: every snapshot deleted',
      );
      return;
    }
    if (taken.purges.length === 0 && !expired) {
      await this.store.prune(file);
      return;
    }
    // The new file is durable and holds none of the forgotten users nor expired interactions: older go.
    try {
      const deleted = await this.store.purgeOlderThan(file);
      this.log.info({ requests: taken.purges.length, filesDeleted: deleted }, 'older snapshots purged');
    } catch (e) {
      this.putBack(taken, expired);
      this.log.error({ err: describeError(e) }, 'purge incomplete; retried after the next snapshot');
      return;
    }
    this.awaiting.push(...taken.purges);
    await this.publishConfirmed();
  }

  /**
   * Publishes the PURGED receipts this disk is clean of, once every other replica confirmed it holds
   * no snapshot; else tries again every CONFIRM_RETRY_MS.
   */
  private async publishConfirmed(): Promise<void> {
    const source = this.source;
    if (!source || this.awaiting.length === 0) return;
    if (this.confirmTimer) clearTimeout(this.confirmTimer);
    this.confirmTimer = undefined;
    const purges = this.awaiting;
    try {
      if (!(await source.othersHoldNoSnapshots())) {
        this.log.info({ requests: purges.length }, 'PURGED waits for the other replicas to confirm');
        this.retryConfirm();
        return;
      }
      this.awaiting = [];
      await source.publishPurged(purges);
      this.log.info({ requests: purges.length }, 'PURGED receipts published');
    } catch (e) {
      this.awaiting = [...purges, ...this.awaiting];
      this.log.error({ err: describeError(e) }, 'PURGED receipts not published; retrying');
      this.retryConfirm();
    }
  }

  private retryConfirm(): void {
    if (this.stopped || this.confirmTimer) return;
    this.confirmTimer = setTimeout(() => {
      this.confirmTimer = undefined;
      void this.publishConfirmed();
    }, CONFIRM_RETRY_MS);
    this.confirmTimer.unref?.();
  }

  /**
   * A standby holds no snapshot: every file in the directory is deleted, nothing is pending (the
   * active replica owns the receipts now). Resolves once the directory is clean.
   */
  async dropAll(): Promise<number> {
    await this.inFlight;
    this.pending = [];
    this.awaiting = [];
    this.preloaded = undefined;
    const deleted = await this.store.purgeAll();
    if (deleted > 0) this.log.info({ filesDeleted: deleted }, 'standby: every snapshot deleted');
    return deleted;
  }
}
