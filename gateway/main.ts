// The only place that reads argv and the environment. `npm start` runs the gateway on
// sip-config/gateway.yaml; `npm start -- --config FILE` on another file.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { buildGateway } from './app.js';
import { ConfigError, loadConfigFile, splitHostPort } from './config/load.js';
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
  const { host, port } = splitHostPort(config.http.listen);
  const shownHost = host === '0.0.0.0' || host === '::' ? 'localhost' : host.includes(':') ? `[${host}]` : host;
  // The first line names the page URL (other tools rely on it).
  // With http.tls the page is served over HTTPS only (browsers grant the microphone only on https or localhost).
  const scheme = config.http.tls ? 'https' : 'http';
  process.stdout.write(`Gateway page: ${scheme}://${shownHost}:${port}/  (config: ${path.relative(process.cwd(), file) || file})\n`);
  const logger = createLogger(process.env.LOG_LEVEL ?? config.log.level);
  const gateway = buildGateway(config, { logger });
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
    void gateway.stop().then(() => process.exit(0));
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

await main();
