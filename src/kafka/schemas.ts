// The Avro schemas of schemas/*.avsc, loaded once. The directory sits two levels above this file
// both in src/kafka (tsx) and in dist/kafka (built), so one relative URL serves both.
import { readFileSync } from 'node:fs';
import avro from 'avsc';

export const SCHEMA_FILES = {
  interaction: 'interaction-event.avsc',
  deletion: 'deletion-request.avsc',
  neighbors: 'item-neighbors.avsc',
  receipt: 'deletion-receipt.avsc',
} as const;

export type SchemaName = keyof typeof SCHEMA_FILES;

export interface LocalSchema {
  /** The .avsc text, as registered. */
  readonly text: string;
  /** Full record name, e.g. io.amnesia.v1.InteractionEvent. */
  readonly fullName: string;
  readonly type: avro.Type;
}

const cache = new Map<SchemaName, LocalSchema>();

export function localSchema(name: SchemaName): LocalSchema {
  let s = cache.get(name);
  if (!s) {
    const text = readFileSync(new URL(`../../schemas/${SCHEMA_FILES[name]}`, import.meta.url), 'utf8');
    const json = JSON.parse(text) as { name: string; namespace?: string };
    const fullName = json.namespace ? `${json.namespace}.${json.name}` : json.name;
    s = { text, fullName, type: avro.Type.forSchema(json as avro.Schema) };
    cache.set(name, s);
  }
  return s;
}
