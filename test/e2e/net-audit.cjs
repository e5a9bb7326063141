// Preloaded (NODE_OPTIONS=--require) into code-server and every Node process it forks, including the extension
// host: records each outgoing socket connect and DNS lookup with pid, process role and time into
// $BIOHICL_NET_AUDIT (JSON lines). The e2e suite asserts that none comes from the extension host while a query runs.
'use strict';
const fs = require('node:fs');
const net = require('node:net');
const dns = require('node:dns');
const cp = require('node:child_process');
const file = process.env.BIOHICL_NET_AUDIT;
if (file && !global.__biohiclNetAudit) {
  global.__biohiclNetAudit = true;
  let threadId = 0;
  try {
    threadId = require('node:worker_threads').threadId;
  } catch {
    /* */
  }
  const role =
    process.argv.join(' ').includes('extensionHost') || process.env.VSCODE_EXTHOST_WILL_SEND_SOCKET !== undefined
      ? 'extensionHost'
      : 'other';
  const rec = (kind, detail) => {
    try {
      fs.appendFileSync(
        file,
        JSON.stringify({
          pid: process.pid,
          threadId,
          role,
          argv: process.argv.slice(1).join(' ').slice(0, 240),
          t: Date.now(),
          kind,
          detail,
        }) + '\n',
      );
    } catch {
      /* never break the host */
    }
  };
  const describe = (args) => {
    const a = args[0];
    if (Array.isArray(a)) return describe(a);
    if (a && typeof a === 'object') return a.path ? `unix:${a.path}` : `${a.host ?? 'localhost'}:${a.port}`;
    if (typeof a === 'string') return `unix:${a}`;
    return `${args[1] ?? 'localhost'}:${a}`;
  };
  const connect = net.Socket.prototype.connect;
  net.Socket.prototype.connect = function (...args) {
    rec('connect', describe(args));
    return connect.apply(this, args);
  };
  const lookup = dns.lookup;
  dns.lookup = function (host, ...rest) {
    rec('lookup', String(host));
    return lookup.call(this, host, ...rest);
  };
  for (const m of ['resolve', 'resolve4', 'resolve6']) {
    const orig = dns[m];
    dns[m] = function (host, ...rest) {
      rec(m, String(host));
      return orig.call(this, host, ...rest);
    };
  }
  // Keep the hook in children even if their environment drops NODE_OPTIONS.
  const fork = cp.fork;
  cp.fork = function (modulePath, args, options) {
    if (!Array.isArray(args)) {
      options = args;
      args = [];
    }
    options = { ...(options || {}) };
    const execArgv = options.execArgv ? [...options.execArgv] : [...process.execArgv];
    if (!execArgv.includes(__filename)) execArgv.unshift('--require', __filename);
    options.execArgv = execArgv;
    options.env = { ...(options.env || process.env), BIOHICL_NET_AUDIT: file };
    return fork.call(this, modulePath, args, options);
  };
  rec('loaded', '');
}
