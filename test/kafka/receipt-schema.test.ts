// The receipt schema gained the status REJECTED and a reason field: data written with the previous
// schema (test/fixtures/deletion-receipt.v1.avsc, as registered by earlier releases) still reads
// with the current one (BACKWARD), and a reader still on the previous schema reads a new receipt —
// REJECTED falls back to the old enum default, the documented hazard (docs/contract.md).
import { readFileSync } from 'node:fs';
import avro from 'avsc';
import { describe, expect, it } from 'vitest';
import { localSchema } from '../../src/kafka/schemas.js';

const v1 = avro.Type.forSchema(
  JSON.parse(
    readFileSync(new URL('../fixtures/deletion-receipt.v1.avsc', import.meta.url), 'utf8'),
  ) as avro.Schema,
);
const current = localSchema('receipt').type;

describe('deletion receipt schema evolution', () => {
  it('reads receipts written with the previous schema (reason null)', () => {
    const old = {
      requestId: 'r',
      status: 'PURGED',
      interactionsRemoved: 3,
      itemsAffected: 3,
      completedAt: 7,
      dlqRetentionMs: 9,
    };
    const read = current.createResolver(v1);
    expect(current.fromBuffer(v1.toBuffer(old), read)).toEqual({ ...old, reason: null });
  });

  it('writes REJECTED with a reason; a previous-schema reader sees its enum default', () => {
    const rej = {
      requestId: 'r',
      status: 'REJECTED',
      reason: 'missing-user-id',
      interactionsRemoved: 0,
      itemsAffected: 0,
      completedAt: 7,
      dlqRetentionMs: 0,
    };
    const buf = current.toBuffer(rej);
    expect(current.fromBuffer(buf)).toEqual(rej);
    expect(v1.fromBuffer(buf, v1.createResolver(current))).toMatchObject({ status: 'FORGOTTEN' });
  });
});
