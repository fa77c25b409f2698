// bench/node_sdk.js: the official Node SDK (azure-iothub, JobClient.getJob)
// against bench/run's nginx, for comparison. Prints "name value" lines.
//
//   NODE_PATH=build/bench-node/node_modules NODE_EXTRA_CA_CERTS=ca.pem \
//   BENCH_PORT=PORT node bench/node_sdk.js
//
// Aiming the SDK at nginx: JobClient.fromConnectionString takes the host from
// HostName and has no port option, so HostName is 127.0.0.1 (the SAS is
// signed over that host; nginx ignores it) and the port is set on the SDK's
// own keep-alive https.Agent (the one JobClient's constructor installs), whose
// defaultPort Node uses when a request names no port. Everything else is the
// SDK's ordinary path: getJob builds the request, signs it, parses the JSON.
'use strict';
const { JobClient } = require('azure-iothub');

const port = Number(process.env.BENCH_PORT);
const seconds = Number(process.env.BENCH_SECONDS || 3);
const cs = 'HostName=127.0.0.1;SharedAccessKeyName=iothubowner;' +
  'SharedAccessKey=' + process.env.BENCH_KEY;
if (!process.env.BENCH_KEY) throw new Error('BENCH_KEY is not set (bench/run sets it)');

function out(name, value) { process.stdout.write(name + ' ' + value + '\n'); }

async function main() {
  const client = JobClient.fromConnectionString(cs);
  const http = client._restApiClient && client._restApiClient._http;
  const agent = http && http._options && http._options.http && http._options.http.agent;
  if (!agent || agent.defaultPort !== 443) {
    throw new Error('SDK internals changed: no keep-alive agent to aim at port ' + port);
  }
  agent.defaultPort = port;

  const first = await client.getJob('bench-job');
  const job = first.jobStatus;
  if (!job || job.jobId !== 'bench-job') throw new Error('unexpected getJob result');
  for (let i = 0; i < 200; i++) await client.getJob('bench-job');   // warm (JIT, connection)

  // Sequential: one call at a time, like our get_job loop.
  let n = 0;
  let t0 = process.hrtime.bigint();
  let deadline = t0 + BigInt(Math.round(seconds * 1e9));
  while (process.hrtime.bigint() < deadline) {
    await client.getJob('bench-job');
    n++;
  }
  out('node_seq_rps', (n / (Number(process.hrtime.bigint() - t0) / 1e9)).toFixed(1));

  // Sixteen in flight: sixteen loops sharing the client (the agent opens up to 16 sockets).
  n = 0;
  const worker = async () => {
    while (process.hrtime.bigint() < deadline) {
      await client.getJob('bench-job');
      n++;
    }
  };
  const warm = [];
  for (let i = 0; i < 16; i++) warm.push(client.getJob('bench-job'));
  await Promise.all(warm);
  t0 = process.hrtime.bigint();
  deadline = t0 + BigInt(Math.round(seconds * 1e9));
  await Promise.all(Array.from({ length: 16 }, worker));
  out('node_c16_rps', (n / (Number(process.hrtime.bigint() - t0) / 1e9)).toFixed(1));
  out('node_sockets', Object.values(agent.freeSockets).reduce((a, s) => a + s.length, 0));
}

main().then(() => process.exit(0), (err) => {
  process.stderr.write('node_sdk: ' + (err && err.stack || err) + '\n');
  process.exit(1);
});
