// Encoding our values: JSON text, or Avro in the Confluent wire format (0x00, 4-byte schema id,
// Avro body). The outputs use it; so do the CLI and tests that write inputs. Decoding: input/codec.ts.
import { localSchema, type SchemaName } from '../kafka/schemas.js';

export const MAGIC_BYTE = 0x00;
export const HEADER_BYTES = 5;

/** A Confluent wire-format frame around an Avro body. */
export function confluentFrame(schemaId: number, body: Buffer): Buffer {
  const out = Buffer.allocUnsafe(HEADER_BYTES + body.length);
  out[0] = MAGIC_BYTE;
  out.writeUInt32BE(schemaId, 1);
  body.copy(out, HEADER_BYTES);
  return out;
}

/**
 * Encodes a value of one of our schemas as JSON, or as Avro in the Confluent frame when a schema
 * id is given. Optional union fields may be left out; Avro gets them as null.
 */
export function encodeValue(name: SchemaName, value: object, schemaId?: number): Buffer {
  if (schemaId === undefined) return Buffer.from(JSON.stringify(value));
  const type = localSchema(name).type;
  const withNulls: Record<string, unknown> = { ...value };
  for (const field of (type as unknown as { fields: { name: string }[] }).fields) {
    if (withNulls[field.name] === undefined) withNulls[field.name] = null;
  }
  return confluentFrame(schemaId, type.toBuffer(withNulls));
}
