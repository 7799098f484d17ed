// The CLI's help texts (`amnesia help`, `amnesia <command> --help`) and its exit codes, in one
// place: docs/streaming.md#exit-codes lists the same codes (test/cli/help.test.ts holds them equal).

/** How `amnesia` ends; scripts may switch on these. */
export const EXIT = {
  /** Done: loaded, answered FORGOTTEN, identical, valid, or interrupted watch. */
  OK: 0,
  /** Failed: an error (a message on stderr), a difference found by verify, an invalid snapshot. */
  FAILED: 1,
  /** Bad usage: unknown command or option, missing argument, bad value (the command's help follows). */
  USAGE: 2,
  /** forget: the service answered the deletion request REJECTED (its reason on stderr). */
  REJECTED: 3,
  /** No broker answered at KAFKA_BROKERS (one line on stderr: the address and the cause). */
  KAFKA_UNAVAILABLE: 4,
} as const;

export const EXIT_MEANINGS: Readonly<Record<number, string>> = {
  [EXIT.OK]: 'success',
  [EXIT.FAILED]:
    'failure: an error, a difference (verify), a trace the contract forbids (trace), an invalid snapshot',
  [EXIT.USAGE]: 'bad usage: unknown command or option, missing argument, bad value',
  [EXIT.REJECTED]: 'forget: the deletion request was answered REJECTED',
  [EXIT.KAFKA_UNAVAILABLE]: 'cannot reach Kafka at KAFKA_BROKERS',
};

interface CommandHelp {
  readonly synopsis: string;
  readonly text: string;
}

export const COMMANDS = {
  load: {
    synopsis: 'load <file.csv> [--topic T] [--format json|avro] [--rate N] [--batch N] [--in-flight N]',
    text: `Produce interactions from a MovieLens ratings file (userId,movieId,rating,timestamp; seconds)
or a generic userId,itemId[,timestamp-ms] CSV; header optional. Progress on stderr; prints
{"events":…,"seconds":…,"eventsPerSecond":…} at the end.
  --topic T        topic to write (default INTERACTIONS_TOPIC)
  --format F       json or avro (default avro when SCHEMA_REGISTRY_URL is set, else json)
  --rate N         events per second, 0 = as fast as possible (default 0)
  --batch N        records per produce request (default 5000)
  --in-flight N    produce requests in flight at once (default 4)`,
  },
  forget: {
    synopsis: 'forget <userId> [--request-id ID] [--format json|avro] [--timeout MS]',
    text: `Send a deletion request and wait for its receipt (printed as JSON). Exit 3 if REJECTED.
  --request-id ID  the request's id (default a random UUID)
  --format F       json or avro (default avro when SCHEMA_REGISTRY_URL is set, else json)
  --timeout MS     how long to wait for the receipt (default 30000)`,
  },
  watch: {
    synopsis: 'watch [--from-beginning] [--limit N] [--item ID]',
    text: `Print similarity updates as JSON lines until interrupted ({itemId, deleted: true} for a tombstone).
  --from-beginning read the similarities topic from its start
  --limit N        stop after N updates (default 0 = never)
  --item ID        only this item's updates`,
  },
  snapshot: {
    synopsis: 'snapshot inspect <file>',
    text: `Print a snapshot's header as JSON and verify its checksum (exit 1 if invalid). No Kafka needed.`,
  },
  verify: {
    synopsis: 'verify [--snapshot FILE] [--timeout MS]',
    text: `Recompute the state from the input topics (honouring deletions) and compare it with the
published similarities (run when the service has caught up) or with a snapshot file. Prints the
differing item ids and a JSON summary; exit 1 on any difference. Progress (topics read, then the
recomputation, with percentage and ETA) on stderr.
  --snapshot FILE  compare with this snapshot instead of the similarities topic
  --timeout MS     bound on reading the topics (default 120000)`,
  },
  trace: {
    synopsis: 'trace --user ID [--snapshot-dir DIR] [--timeout MS]',
    text: `The forgetting audit: every record Kafka still serves in the topics the service writes
(both modes' internal topics too) and every snapshot file, searched for the user's id and what is
derived from it (token, pair keys, eventId hashes; needs TOMBSTONE_KEY or the key file). Prints
each trace and whether the contract allows it; exit 1 if any other is found.
  --user ID          the user to search for
  --snapshot-dir DIR snapshot files to search too
  --timeout MS       bound on reading the topics (default 120000)`,
  },
} as const satisfies Record<string, CommandHelp>;

export type CommandName = keyof typeof COMMANDS;

export function isCommand(name: string): name is CommandName {
  return Object.hasOwn(COMMANDS, name);
}

const ENVIRONMENT = `environment: KAFKA_BROKERS, SCHEMA_REGISTRY_URL, INTERACTIONS_TOPIC, DELETIONS_TOPIC,
SIMILARITIES_TOPIC, RECEIPTS_TOPIC, KAFKA_SASL_*, KAFKA_SSL (as for the service).`;

const EXIT_TEXT = `exit codes:\n${Object.entries(EXIT_MEANINGS)
  .map(([code, meaning]) => `  ${code}  ${meaning}`)
  .join('\n')}`;

const indent = (text: string) =>
  text
    .split('\n')
    .map((l) => `    ${l}`)
    .join('\n');

export const USAGE = `usage: amnesia <command> [options]   (amnesia <command> --help for one command)

commands:
${Object.values(COMMANDS)
  .map((c) => `  ${c.synopsis}\n${indent(c.text)}`)
  .join('\n')}

${ENVIRONMENT}

${EXIT_TEXT}`;

export function commandHelp(name: CommandName): string {
  return `usage: amnesia ${COMMANDS[name].synopsis}\n\n${COMMANDS[name].text}\n\n${ENVIRONMENT}\n\n${EXIT_TEXT}`;
}
