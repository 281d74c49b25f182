// The only place that reads argv and the environment. `npm start` runs the gateway on
// sip-config/gateway.yaml; `npm start -- --config FILE` on another file.
import { networkInterfaces } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { buildGateway } from './app.js';
import { AddressError } from './config/addresses.js';
import { ConfigError, loadConfigFile, splitHostPort } from './config/load.js';
import { httpAdvertised, pageUrl } from './config/resolve.js';
import { createLogger } from './log.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const defaultConfig = path.resolve(here, '..', 'sip-config', 'gateway.yaml');

function fail(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(1);
}

async function main(): Promise<void> {
  let args;
  try {
    args = parseArgs({ options: { config: { type: 'string', short: 'c' }, help: { type: 'boolean', short: 'h' } } });
  } catch (err) {
    fail(`${(err as Error).message}\nusage: npm start -- [--config FILE]`);
  }
  if (args.values.help) {
    process.stdout.write('usage: npm start -- [--config FILE]   (default: sip-config/gateway.yaml)\n');
    return;
  }
  const file = args.values.config ?? defaultConfig;
  let config;
  try {
    config = loadConfigFile(file);
  } catch (err) {
    if (err instanceof ConfigError) fail(err.message);
    throw err;
  }
  // The first line names the page URL (other tools rely on it): http.advertise, else the bound address
  // (a wildcard: the host's address, config/addresses.ts), https with http.tls (browsers grant the
  // microphone only on https or localhost). A wildcard the gateway cannot settle stops start-up here.
  const interfaces = networkInterfaces();
  let page: string;
  try {
    page = pageUrl(config, httpAdvertised(config, interfaces), splitHostPort(config.http.listen).port);
  } catch (err) {
    if (err instanceof AddressError) fail(`${file}: ${err.message}`);
    throw err;
  }
  process.stdout.write(`Gateway page: ${page}  (config: ${path.relative(process.cwd(), file) || file})\n`);
  const logger = createLogger(process.env.LOG_LEVEL ?? config.log.level, undefined, config.log.format);
  const gateway = buildGateway(config, { logger, interfaces });
  try {
    await gateway.start();
  } catch (err) {
    fail(`gateway failed to start: ${(err as Error).message}`);
  }
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping');
    gateway.stop().then(
      () => process.exit(0),
      (err: Error) => {
        logger.error({ err: err.message }, 'stop failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

await main();
