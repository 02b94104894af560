'use strict';
/**
 * The workflow engine of integ/integ.seed-002-agent-team.ts: a stand-in for seed 002's gRPC engine
 * (an internal service on port 50051, found through Cloud Map). It speaks plain HTTP, with Node
 * built-ins only: `GET /health` answers `{"status":"ok","service":"engine"}`, anything else 404.
 * The team API calls `/health` through Cloud Map; the container health check calls it on loopback.
 */
const http = require('http');

const PORT = Number(process.env.PORT || 50051);

function send(res, status, body) {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}

const server = http.createServer((req, res) => {
  const { pathname } = new URL(req.url, 'http://engine');
  if (pathname === '/health' && (req.method === 'GET' || req.method === 'HEAD')) {
    send(res, 200, { status: 'ok', service: 'engine' });
  } else {
    send(res, 404, { error: 'not_found', message: `the engine answers GET /health only, not ${req.method} ${pathname}` });
  }
});

server.listen(PORT, () => console.log(`engine listening on port ${PORT}`));

// ECS stops a task (a deployment, a Fargate Spot interruption) with SIGTERM; PID 1 has no default handler.
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
