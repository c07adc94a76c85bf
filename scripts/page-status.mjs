// Writes runner/live/page/status.js from the compiled status rules (run by `npm run build`).
import { writeFileSync } from 'node:fs';
import { pageStatusScript } from '../dist/runner/live/page-status.js';

writeFileSync(new URL('../runner/live/page/status.js', import.meta.url), pageStatusScript());
