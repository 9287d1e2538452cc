// Serves the plugin in a standalone page, outside Flex, for trying the panel
// against verify-local (and for its test). It bundles src/ with esbuild the
// way the plugin builder would: JSX, React, and the FLEX_APP_ variables
// inlined at build time.
//
//   FLEX_APP_VERIFY_START_URL=http://127.0.0.1:8080/start-verify \
//   FLEX_APP_VERIFY_CHECK_URL=http://127.0.0.1:8080/check-verify \
//   FLEX_APP_VERIFY_KEY_SID=SK… FLEX_APP_VERIFY_KEY_SECRET=… npm run harness
//   → http://localhost:3000/?from=%2B14155550123
'use strict';

const http = require('node:http');
const fs = require('node:fs');
const path = require('node:path');
const esbuild = require('esbuild');

const HERE = __dirname;
const VARS = ['FLEX_APP_VERIFY_START_URL', 'FLEX_APP_VERIFY_CHECK_URL', 'FLEX_APP_VERIFY_KEY_SID', 'FLEX_APP_VERIFY_KEY_SECRET'];

async function bundle(settings) {
  const define = { 'process.env.NODE_ENV': '"production"' };
  for (const name of VARS) define[`process.env.${name}`] = JSON.stringify(settings[name] || '');
  // What the plugin builder stamps into every plugin (@twilio/flex-plugin reads them).
  const stamps = {
    __FPB_PLUGIN_UNIQUE_NAME: 'plugin-verify-panel', __FPB_PLUGIN_VERSION: '0.1.0',
    __FPB_FLEX_PLUGIN_SCRIPTS_VERSION: 'standalone', __FPB_FLEX_PLUGIN_VERSION: '7.1.2',
    __FPB_FLEX_UI_VERSION: 'standalone', __FPB_REACT_VERSION: '17.0.2', __FPB_REACT_DOM_VERSION: '17.0.2',
  };
  for (const [name, value] of Object.entries(stamps)) define[name] = JSON.stringify(value);
  const result = await esbuild.build({
    entryPoints: [path.join(HERE, 'host.js')],
    bundle: true,
    write: false,
    format: 'iife',
    target: 'es2020',
    loader: { '.js': 'jsx' },
    define,
    logLevel: 'silent',
  });
  return result.outputFiles[0].contents;
}

/**
 * Starts the page server on 127.0.0.1. `settings` holds the FLEX_APP_
 * variables; `configure(settings)` replaces them (the next page load
 * rebuilds). Resolves to { origin, configure, close }.
 */
function startHarness({ port = 3000, settings = {} } = {}) {
  let current = settings;
  let built = null;
  const server = http.createServer(async (req, res) => {
    try {
      const url = new URL(req.url, 'http://localhost');
      if (url.pathname === '/') {
        res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
        return res.end(fs.readFileSync(path.join(HERE, 'index.html')));
      }
      if (url.pathname === '/plugin.js') {
        built = built || bundle(current);
        const js = await built;
        res.writeHead(200, { 'Content-Type': 'text/javascript; charset=utf-8' });
        return res.end(js);
      }
      res.writeHead(404).end();
    } catch (e) {
      built = null;
      res.writeHead(500, { 'Content-Type': 'text/plain' }).end(String(e.stack || e));
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      resolve({
        // A name, not the address: the page's origin differs from verify's.
        origin: `http://localhost:${server.address().port}`,
        configure(next) {
          current = next;
          built = null;
        },
        close: () => new Promise((done) => server.close(done)),
      });
    });
  });
}

module.exports = { startHarness, bundle };

if (require.main === module) {
  const settings = Object.fromEntries(VARS.map((name) => [name, process.env[name]]));
  startHarness({ port: Number(process.env.PORT || 3000), settings }).then(({ origin }) => {
    console.log(`Verify panel at ${origin}/?from=%2B14155550123`);
    console.log(`(start verify-local with --cors-origin ${origin} and --api-key for the panel's key)`);
  });
}
