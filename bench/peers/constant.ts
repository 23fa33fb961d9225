// The response cache's ceiling: a node:http handler that answers every request with one constant
// JSON body (the file CONSTANT_BODY_FILE, which the runner fills with the cached query's answer).
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { HOST, PORT } from './common.ts';

const body = readFileSync(process.env.CONSTANT_BODY_FILE ?? '', 'utf8');
const metrics = '# TYPE masthead_store_queries_total counter\nmasthead_store_queries_total 0\n';

createServer((req, res) => {
  if (req.url === '/metrics') {
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(metrics);
    return;
  }
  // Drain the request before answering, as any server must.
  req.resume();
  req.on('end', () => res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' }).end(body));
}).listen(PORT, HOST);
