import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { satisfies, validRange } from 'semver';

// The code relies on what package.json's engines range promises (require() of ESM-only packages, Jest's native
// ESM loading), so a run on an older Node must fail here, by name, rather than somewhere obscure.
describe('the running Node', () => {
  const { engines } = JSON.parse(readFileSync(join(__dirname, '../../package.json'), 'utf8')) as {
    engines: { node: string };
  };

  it('has a valid engines.node range to check against', () => {
    expect(validRange(engines.node)).not.toBeNull();
  });

  it('satisfies package.json engines.node', () => {
    expect({
      node: process.versions.node,
      satisfies: satisfies(process.versions.node, engines.node),
    }).toEqual({
      node: process.versions.node,
      satisfies: true,
    });
  });
});
