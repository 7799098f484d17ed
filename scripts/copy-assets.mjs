// Build step after tsc: copies the inspector's page files (HTML, CSS, JS) into dist/, which tsc
// does not, so that `node dist/main.js` (and the Docker image, which has no src/) can serve them.
import { cpSync } from 'node:fs';

cpSync('src/http/inspector', 'dist/http/inspector', { recursive: true, filter: (f) => !f.endsWith('.ts') });
