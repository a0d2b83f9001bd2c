/** Process entry point: run the CLI and hand its exit code to Node. */
import { main } from './main.js';

process.exitCode = await main(process.argv.slice(2));
