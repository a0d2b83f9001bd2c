/**
 * The mock as a test suite runs it: startMock() from the package's API inside a plain node
 * process (no flags of the bin), for bench/run.mjs's memory figure.
 *
 *   node bench/in-process.mjs '{"buildRoot":…,"certs":…,"scenarios":…,"scenario":…,"port":…,"adminPort":…}'
 *
 * Logs at info to standard output, as the bin does, and stops on SIGTERM.
 */
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const { buildRoot, certs, scenarios, scenario, port, adminPort } = JSON.parse(process.argv[2]);
const { startMock } = await import(pathToFileURL(join(buildRoot, 'dist', 'index.js')).href);
const mock = await startMock({ certs, scenarios, scenario, port, adminPort, logLevel: 'info' });
process.once('SIGTERM', () => mock.stop().then(() => process.exit(0)));
