// The inspector's Kafka producer, connected on the first write (a read-only inspector never opens
// one) and again after a failed connect; closed with the inspector.
import type { Kafka, Producer } from 'kafkajs';

export interface LazyProducer {
  get(): Promise<Producer>;
  close(): Promise<void>;
}

export function lazyProducer(kafka: Kafka): LazyProducer {
  let producer: Promise<Producer> | undefined;
  return {
    get: () =>
      (producer ??= (async () => {
        const p = kafka.producer({ allowAutoTopicCreation: false });
        await p.connect();
        return p;
      })().catch((e: unknown) => {
        producer = undefined;
        throw e;
      })),
    async close() {
      const p = producer;
      producer = undefined;
      if (p) await p.then((x) => x.disconnect()).catch(() => undefined);
    },
  };
}
