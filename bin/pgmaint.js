#!/usr/bin/env node
'use strict';
// Runs the TypeScript CLI from a checkout (tsx compiles on the fly); the Lambda image ships compiled JS.
const { join } = require('node:path');
const { existsSync } = require('node:fs');
// The AWS SDK warns once per process that it will need Node 22 from 2027; the CLI prints results on
// stdout and logs on stderr, and this notice is neither. Every other warning still shows.
const emitWarning = process.emitWarning.bind(process);
process.emitWarning = (warning, ...rest) => {
  if (String(warning).startsWith('NodeVersionSupportWarning')) return;
  emitWarning(warning, ...rest);
};
const source = join(__dirname, '..', 'functions', 'cli', 'main.ts');
const fromSource = existsSync(source);
if (fromSource) require('tsx/cjs');
const { main } = require(fromSource ? source : join(__dirname, '..', 'dist', 'functions', 'cli', 'main.js'));
main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    process.stderr.write(`pgmaint: unexpected error: ${error && error.stack ? error.stack : error}\n`);
    process.exitCode = 1;
  },
);
