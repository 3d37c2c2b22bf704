'use strict';
// Node 20 has no compile cache (module.enableCompileCache is Node 22.1+), and compiling the CLI's
// bundle is a third of what a `pgmaint health` process spends beyond Node itself: a monitoring
// server starts one every few minutes. So on Node 20 the bundle is loaded through V8's code cache
// the way Node 22 does it: the first run compiles and saves the code V8 made (including every
// function that run called), later runs start from it. V8 refuses a cache that does not match
// the source or this Node (then the run compiles as usual and saves a new one); any failure to
// read or write the cache only means compiling as usual. NODE_DISABLE_COMPILE_CACHE=1 turns it
// off, as it does Node 22's.
const crypto = require('node:crypto');
const fs = require('node:fs');
const Module = require('node:module');
const os = require('node:os');
const { dirname, join } = require('node:path');
const vm = require('node:vm');

/** Per user, never shared: a cache is code this process runs. */
function cacheDir() {
  const base = process.env.XDG_CACHE_HOME || join(os.homedir(), '.cache');
  const dir = join(base, 'pgmaint', 'compile-cache');
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const stat = fs.statSync(dir);
  if (typeof process.getuid === 'function' && stat.uid !== process.getuid()) throw new Error('not ours');
  if ((stat.mode & 0o022) !== 0) throw new Error('writable by others');
  return dir;
}

/** require(file) of a CommonJS file, compiled from and into the code cache when it can be. */
function requireWithCodeCache(file) {
  if (process.env.NODE_DISABLE_COMPILE_CACHE) return require(file);
  const source = fs.readFileSync(file, 'utf8');
  let cacheFile;
  let cachedData;
  try {
    // V8 checks only the source's length against a cache: the key names the exact source.
    const hash = crypto.createHash('sha256').update(source).digest('hex').slice(0, 16);
    cacheFile = join(cacheDir(), `cli-${process.version}-${process.arch}-${hash}.bin`);
    cachedData = fs.readFileSync(cacheFile);
  } catch {
    // No cache yet, or none possible here (cacheFile stays unset): compile as usual.
  }
  const script = new vm.Script(Module.wrap(source), { filename: file, cachedData });
  const mod = new Module(file, module);
  mod.filename = file;
  mod.paths = Module._nodeModulePaths(dirname(file));
  require.cache[file] = mod;
  script
    .runInThisContext()
    .call(mod.exports, mod.exports, Module.createRequire(file), mod, file, dirname(file));
  mod.loaded = true;
  if (cacheFile && (cachedData === undefined || script.cachedDataRejected))
    // At exit, so the cache holds every function this run compiled, not only the top level.
    process.once('exit', () => saveCache(script, cacheFile));
  return mod.exports;
}

function saveCache(script, cacheFile) {
  try {
    const dir = dirname(cacheFile);
    for (const old of fs.readdirSync(dir))
      if (old.startsWith('cli-')) fs.rmSync(join(dir, old), { force: true });
    const partial = `${cacheFile}.${process.pid}`;
    fs.writeFileSync(partial, script.createCachedData(), { mode: 0o600 });
    fs.renameSync(partial, cacheFile);
  } catch {
    // A cache not written is one compile more next time.
  }
}

module.exports = { requireWithCodeCache };
