// SPDX-License-Identifier: ISC
//
// Preload (node --import) for third-party servers started by the tests
// (server-everything): every net.Server.listen() without a host is bound to
// 127.0.0.1 instead of all interfaces, and "READY <port>" is printed on stdout
// once it listens, so PORT=0 can be used and the real port learned.

import net from 'node:net';

const origListen = net.Server.prototype.listen;

net.Server.prototype.listen = function listen(...args) {
  const a0 = args[0];
  if (typeof a0 === 'number' || (typeof a0 === 'string' && /^\d+$/.test(a0))) {
    args[0] = Number(a0);
    if (typeof args[1] !== 'string') args.splice(1, 0, '127.0.0.1');
  } else if (a0 && typeof a0 === 'object' && !a0.path && !a0.host) {
    args[0] = { ...a0, host: '127.0.0.1' };
  }
  this.once('listening', () => {
    const addr = this.address();
    if (addr && typeof addr === 'object') process.stdout.write(`READY ${addr.port}\n`);
  });
  return origListen.apply(this, args);
};
