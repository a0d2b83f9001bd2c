/**
 * The yardstick: a bare Node `https.createServer` doing the least an entitlement
 * service must do — mutual TLS with the same certificates, read the body, parse the
 * JSON, answer with the request's messageID. No framework, no journal, no logs.
 *
 *   node bench/bare-server.mjs CERTS_DIR [PORT]
 *
 * Prints `{"port": N}` on one line when it listens (PORT 0 or absent picks a free one).
 */
import https from 'node:https';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const [certs = 'certs', port = '0'] = process.argv.slice(2);
const server = https.createServer(
  {
    cert: readFileSync(join(certs, 'server.crt')),
    key: readFileSync(join(certs, 'server.key')),
    ca: readFileSync(join(certs, 'ca.crt')),
    requestCert: true,
    rejectUnauthorized: true,
    minVersion: 'TLSv1.2',
  },
  (req, res) => {
    const chunks = [];
    req.on('data', (chunk) => chunks.push(chunk));
    req.on('end', () => {
      let request;
      try {
        request = JSON.parse(Buffer.concat(chunks).toString());
      } catch {
        res.writeHead(400, { 'content-type': 'application/json' }).end('{"isAllowed":false,"error":400}');
        return;
      }
      const body = JSON.stringify({
        messageID: request.messageID,
        version: request.version,
        isAllowed: true,
        epTokenURL: 'https://fp.service.expressplay.com:80/hms/fp/rights/?ExpressPlayToken=bare',
      });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }).end(body);
    });
  },
);
server.listen(Number(port), '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ port: server.address().port })}\n`);
});
process.once('SIGTERM', () => process.exit(0));
process.once('SIGINT', () => process.exit(0));
