import { it } from 'vitest';
import { junitReporter } from '../../reporters/junit.js';
import { tapReporter } from '../../reporters/tap.js';
import { sampleResult } from '../helpers/sample-result.js';
import { writeFileSync } from 'node:fs';
it('dump', () => {
  const r = sampleResult();
  writeFileSync('/tmp/jt/out.xml', junitReporter.render(r));
  writeFileSync('/tmp/jt/out-loc.xml', junitReporter.render(r, { junitLocations: true }));
  writeFileSync('/tmp/jt/out.tap', tapReporter.render(r));
});
