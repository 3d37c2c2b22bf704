import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * The installed package's version. The CLI runs from functions/cli (a checkout) or
 * dist/functions/cli (an installed package), so the package.json is found by walking up.
 */
export function packageVersion(from: string = __dirname): string {
  for (let dir = from; ; dir = dirname(dir)) {
    const path = join(dir, 'package.json');
    if (existsSync(path)) {
      const manifest = JSON.parse(readFileSync(path, 'utf8')) as { version?: string };
      if (manifest.version) return manifest.version;
    }
    if (dirname(dir) === dir) return 'unknown';
  }
}
