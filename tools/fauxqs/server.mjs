// Serves the fauxqs SQS emulator on 127.0.0.1 for integration tests.
//
// Usage: node server.mjs PORT   (PORT 0 lets the kernel choose a free port)
//
// It uses fauxqs's buildApp rather than startFauxqs: startFauxqs always
// listens on 0.0.0.0, and this server must be reachable from this machine
// only. Request logging is off. Once listening it prints one line,
// "fauxqs listening on http://127.0.0.1:PORT", which fauxqs.sh waits for.
// SIGTERM or SIGINT closes it.
import { buildApp } from "fauxqs";

const arg = process.argv[2] ?? "0";
const port = Number(arg);
if (!/^\d+$/.test(arg) || port > 65535) {
  console.error(`server.mjs: invalid port ${JSON.stringify(arg)}`);
  process.exit(2);
}

const app = buildApp({ logger: false });
const address = await app.listen({ host: "127.0.0.1", port });
console.log(`fauxqs listening on ${address}`);

let closing = false;
for (const signal of ["SIGTERM", "SIGINT"]) {
  process.on(signal, async () => {
    if (closing) return;
    closing = true;
    await app.close();
    process.exit(0);
  });
}
