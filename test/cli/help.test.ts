// The CLI's exit codes as documented (docs/streaming.md#exit-codes) are the ones it uses, and every
// command has its own help naming each option it accepts.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { COMMANDS, EXIT, EXIT_MEANINGS, USAGE, commandHelp } from '../../src/cli/help.js';

describe('the CLI help', () => {
  it('documents exactly the exit codes the CLI uses', () => {
    const doc = readFileSync('docs/streaming.md', 'utf8');
    const section = doc.slice(doc.indexOf('### Exit codes'));
    const rows = [...section.matchAll(/^\| (\d+) +\| (.+?) +\|$/gm)].map((m) => [Number(m[1]), m[2]]);
    expect(Object.fromEntries(rows)).toEqual(EXIT_MEANINGS);
    expect(Object.keys(EXIT_MEANINGS).map(Number).sort()).toEqual(Object.values(EXIT).sort());
  });

  it('has a help per command, listed in the overview', () => {
    for (const name of Object.keys(COMMANDS) as (keyof typeof COMMANDS)[]) {
      const help = commandHelp(name);
      expect(help).toContain(`usage: amnesia ${COMMANDS[name].synopsis}`);
      expect(help).toContain('exit codes:');
      for (const option of COMMANDS[name].synopsis.match(/--[a-z-]+/g) ?? [])
        expect(COMMANDS[name].text, `${name} ${option}`).toContain(option);
      expect(USAGE).toContain(COMMANDS[name].synopsis);
    }
  });
});
