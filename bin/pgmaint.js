#!/usr/bin/env node
'use strict';
// Runs the TypeScript CLI from a checkout (tsx compiles on the fly); the package ships one esbuild
// bundle (dist/cli, functions/cli/bundle.ts) and the container image the tsc-compiled functions.
const { join } = require('node:path');
const { existsSync } = require('node:fs');
const source = join(__dirname, '..', 'functions', 'cli', 'main.ts');
const fromSource = existsSync(source);
const bundle = join(__dirname, '..', 'dist', 'cli');
// The container image has the compiled functions/ beside bin/.
const cliDir =
  !fromSource && existsSync(join(bundle, 'main.js')) ? bundle : join(__dirname, '..', 'functions', 'cli');
// Node 22.1+ keeps compiled code between runs (a monitoring server starts `pgmaint health` every
// few minutes); on older Node the bundle goes through V8's code cache itself (bin/compile-cache.js).
const nodeCompileCache = !fromSource && typeof require('node:module').enableCompileCache === 'function';
if (nodeCompileCache) require('node:module').enableCompileCache();
const loadMain =
  cliDir === bundle && !nodeCompileCache
    ? () => require('./compile-cache').requireWithCodeCache(join(bundle, 'main.js'))
    : () => require(join(cliDir, 'main'));
// From source, tsx compiles on the fly: its require hook for the static imports, its import hook
// for the commands the CLI loads only when they run (functions/jobs.ts).
const ready = fromSource
  ? import('tsx/esm/api').then((tsx) => {
      require('tsx/cjs');
      tsx.register();
    })
  : Promise.resolve();
ready
  .then(() => {
    require(join(cliDir, 'quiet-warnings')).quietSdkNodeVersionWarning();
    const { main } = loadMain();
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
