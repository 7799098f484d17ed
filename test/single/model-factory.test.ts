// INTERACTION_TTL_MS when the single mode makes or restores its model: a snapshot kept with the TTL
// off (no interaction times) is not used with it on — the state is rebuilt from the inputs, which
// carry the times — one kept with it is; and a model made or restored is expired at once.
import { describe, expect, it } from 'vitest';
import { Model } from '../../src/model/index.js';
import { expireDue, modelFromState, newModel, settingsFit } from '../../src/single/model-factory.js';
import { sampleModel, sampleSnapshot } from '../helpers/snapshot-sample.js';
import { singleConfig, TEST_TOMBSTONE_KEY } from '../helpers/runtimes.js';

const HOUR = 3_600_000;

describe('the single mode model under INTERACTION_TTL_MS', () => {
  const ttl = singleConfig({ TOP_K: '5', INTERACTION_TTL_MS: String(HOUR) });

  it('uses a snapshot only if it holds the interactions’ times', () => {
    expect(settingsFit(ttl, sampleSnapshot(sampleModel()))).toBe(false);
    expect(settingsFit(singleConfig({ TOP_K: '5' }), sampleSnapshot(sampleModel()))).toBe(true);
    const timed = new Model({ topK: 5, interactionTtlMs: HOUR });
    timed.interaction({ userId: 'u', itemId: 'a', action: 'ADD', occurredAt: Date.now() });
    timed.flush();
    expect(settingsFit(ttl, sampleSnapshot(timed))).toBe(true);
  });

  it('expires a restored model at once, and a new one refuses what is already past the TTL', () => {
    const now = Date.now();
    const m = new Model({ topK: 5, interactionTtlMs: HOUR });
    m.interaction({ userId: 'u', itemId: 'a', action: 'ADD', occurredAt: now - 2 * HOUR });
    m.interaction({ userId: 'u', itemId: 'b', action: 'ADD', occurredAt: now - HOUR / 2 });
    m.flush();
    const restored = modelFromState(ttl, TEST_TOMBSTONE_KEY, m.exportState());
    expect(expireDue(restored, ttl, now)).toBe(1);
    expect(restored.items('u')).toEqual(['b']);
    const fresh = newModel(ttl, TEST_TOMBSTONE_KEY);
    expect(fresh.interaction({ userId: 'v', itemId: 'a', action: 'ADD', occurredAt: now - 2 * HOUR })).toBe(
      'expired',
    );
    expect(expireDue(newModel(singleConfig(), TEST_TOMBSTONE_KEY), singleConfig())).toBe(0);
  });
});
