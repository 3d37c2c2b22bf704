#!/usr/bin/env node
'use strict';
// Runs the TypeScript CLI from a checkout (tsx compiles on the fly); the package ships one esbuild
// bundle (dist/cli, scripts/bundle-cli.ts) and the container image the tsc-compiled functions.
const { join } = require('node:path');
const { existsSync } = require('node:fs');
const { pathToFileURL } = require('node:url');
const source = join(__dirname, '..', 'functions', 'cli', 'main.ts');
const fromSource = existsSync(source);
const bundle = join(__dirname, '..', 'dist', 'cli');
const fromBundle = !fromSource && existsSync(join(bundle, 'main.mjs'));
// The container image has the compiled functions/ beside bin/.
const cliDir = join(__dirname, '..', 'functions', 'cli');
// Node 22.1+ keeps compiled code between runs (a monitoring server starts `pgmaint health` every
// few minutes); older Node has no such cache and goes on without it.
if (!fromSource) require('node:module').enableCompileCache?.();

/** Loads one of the CLI's modules: from the bundle, the image's compiled functions, or the checkout's TypeScript. */
async function cliLoader() {
  if (fromBundle) return (name) => import(pathToFileURL(join(bundle, `${name}.mjs`)).href);
  if (fromSource) {
    // tsx's require hook for the static imports, its import hook for the commands the CLI loads
    // only when they run (functions/jobs.ts).
    const tsx = await import('tsx/esm/api');
    require('tsx/cjs');
    tsx.register();
  }
  return async (name) => require(join(cliDir, name));
}

cliLoader()
  .then(async (load) => {
    (await load('quiet-warnings')).quietSdkNodeVersionWarning();
    const { main } = await load('main');
    return main(process.argv.slice(2));
  })
  .then(
    (code) => {
      process.exitCode = code;
      // Stopped by SIGINT (130) or SIGTERM (143) and cleaned up: requests the run abandoned (a part
      // upload still in flight, which S3 now refuses) must not keep the process alive.
      if (code === 130 || code === 143) process.exit(code);
    },
    (error) => {
      process.stderr.write(`pgmaint: unexpected error: ${error?.stack ? error.stack : error}\n`);
      process.exitCode = 1;
    },
  );
