import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { build, type Plugin } from 'esbuild';

/**
 * `npm run build` (and so `npm pack`): the CLI as the package ships it, bundled by esbuild into
 * dist/cli/main.js. Nagios starts `pgmaint health` as a fresh process every few minutes, and on
 * Node 20 (no compile cache) resolving, reading and compiling a few hundred modules one by one
 * cost more than the check itself. One CommonJS file: measured side by side, ES modules split at
 * each command's `load()` cost more CPU per start (Node's ES module loader, one more file per
 * chunk) than V8's quick pre-parse of the commands a run never calls, which esbuild keeps behind
 * the same lazy `load()` (functions/jobs.ts): their modules run only when their command does.
 * The AWS SDK and Powertools stay packages, loaded only when a run talks to AWS
 * (functions/shared/aws.ts). Lambda and the Fargate tasks run the tsc-compiled functions from the
 * image (lib/image/Dockerfile), not this bundle. The bundle finds sql/ and package.json from its
 * own directory as the compiled functions do: from dist/cli, `../../sql` is the package's sql/.
 */

const ROOT = join(__dirname, '..', '..');
const CLI_BUNDLE_DIR = join(ROOT, 'dist', 'cli');

/** Loaded at run time from the installed dependencies, never bundled: big, and only when a run talks to AWS. */
const EXTERNAL = ['@aws-sdk/*', '@aws-lambda-powertools/*', 'pg-native'];

/**
 * pg picks its socket at import by probing for Cloudflare Workers: `new Response(...)`, which makes
 * Node load its whole fetch implementation (undici), about 20 ms of every start. The CLI runs on
 * Node only, so pg's socket module is Node's two functions, the same as pg's own Node branch.
 */
const pgNodeSockets: Plugin = {
  name: 'pg-node-sockets',
  setup(on) {
    on.onResolve({ filter: /^\.\/stream(\.js)?$/ }, (args) =>
      /[\\/]node_modules[\\/]pg[\\/]lib[\\/]/.test(args.importer)
        ? { path: 'pg-node-sockets', namespace: 'pgmaint' }
        : undefined,
    );
    on.onLoad({ filter: /^pg-node-sockets$/, namespace: 'pgmaint' }, () => ({
      loader: 'js',
      // Loaded as pg's own Node branch loads them, when the first connection opens.
      contents: `module.exports = {
  getStream: () => new (require('node:net').Socket)(),
  getSecureStream: (options) => require('node:tls').connect(options),
};`,
    }));
  },
};

async function bundleCli(): Promise<void> {
  rmSync(CLI_BUNDLE_DIR, { recursive: true, force: true });
  await build({
    absWorkingDir: ROOT,
    entryPoints: {
      main: 'functions/cli/main.ts',
      'quiet-warnings': 'functions/cli/quiet-warnings.ts',
    },
    outdir: CLI_BUNDLE_DIR,
    bundle: true,
    format: 'cjs',
    platform: 'node',
    target: 'node20',
    minify: true,
    // Error classes name themselves from their constructor (functions/shared/errors.ts).
    keepNames: true,
    sourcemap: 'linked',
    sourcesContent: false,
    external: EXTERNAL,
    plugins: [pgNodeSockets],
    logLevel: 'warning',
  });
}

bundleCli().catch((error: unknown) => {
  process.stderr.write(`pgmaint bundle: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
