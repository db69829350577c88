import { existsSync } from 'node:fs';
import { sharedDataPath } from '../../pipeline/core/paths';

/**
 * `describe` for tests that need ../shared/data/<parts>: when the data is absent they are
 * skipped, and the skip says which file was missing.
 */
export function describeIfSharedData(parts: string[], name: string, body: () => void): void {
  const path = sharedDataPath(...parts);
  if (existsSync(path)) {
    describe(name, body);
  } else {
    describe(name, () => {
      test.skip(`skipped: ${path} is absent (real data beside the project, optional)`, () => undefined);
    });
  }
}
